"""Evaluation reports: files written, one row per letter, numbers that add up; the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fingerspell.data import Dataset
from fingerspell.errors import FingerspellError
from fingerspell.evaluate import evaluate
from fingerspell.train.loop import train


@pytest.fixture
def five_run(mnist_five):
    return train(mnist_five, "letters-cnn", epochs=4, batch_size=32, progress=False, lr=0.005)


def test_report_files_and_per_letter_rows(five_run, mnist_five):
    report = evaluate(five_run.path, mnist_five, "test", progress=False)
    for f in ("report.html", "report.json", "confusion.png", "reliability.png", "coverage.png", "mistakes.png",
              "per_class.png"):
        assert (report.out / f).stat().st_size > 500, f
    assert report.out == five_run.path / "eval-mnist-five-test"
    assert [r["letter"] for r in report.per_class] == ["A", "B", "C", "D", "E"]
    assert [r["support"] for r in report.per_class] == [20] * 5
    assert report.n == 100
    assert report.top1 > 0.6  # five letters after four short epochs; chance is 0.2
    assert report.top5 == 1.0  # five classes: the true one is always in the top five
    correct = sum(r["recall"] * r["support"] for r in report.per_class)
    assert correct == pytest.approx(report.top1 * report.n)
    assert sum(sum(row) for row in report.confusion) == 100
    assert 0 <= report.ece <= 1 and report.images_per_s > 0
    for r in report.per_class:
        assert r["correct_confident"] <= r["support"]
    saved = json.loads((report.out / "report.json").read_text())
    assert saved["top1"] == report.top1 and len(saved["per_class"]) == 5
    page = (report.out / "report.html").read_text()
    assert "Correct at &ge; 50% confidence" in page and "<td>E</td>" in page
    # ECE and the coverage/accuracy curve (the one evaluation path): at threshold 0 every
    # sample is given a letter, so letters given right there is top-1.
    assert "expected calibration error" in page.lower() and "coverage.png" in page
    assert saved["ece"] == report.ece and saved["threshold"] == 0.5
    assert saved["curve"][0]["threshold"] == 0.0 and saved["curve"][0]["letters_right"] == pytest.approx(report.top1, abs=1e-4)
    assert report.letters_right <= min(report.top1, report.coverage) + 1e-9
    assert len(report.mistakes) == min(24, round((1 - report.top1) * 100))


def test_letters_the_model_does_not_know_are_skipped_and_counted(five_run, datasets_root):
    from tests.train.helpers import make_sign_mnist

    make_sign_mnist(datasets_root, name="mnist-seven", train_per_class=2, test_per_class=3, classes=7).close()
    report = evaluate(five_run.path, "mnist-seven", "test", progress=False)
    assert report.n == 15
    assert list(report.skipped.values()) == [6]


def test_unknown_split_is_a_clear_error(five_run, mnist_five):
    with pytest.raises(FingerspellError, match="has no 'val' split; splits: test, train"):
        evaluate(five_run.path, mnist_five, "val", progress=False)


def test_cli_eval_json(five_run, mnist_five, fs_home):
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "eval", five_run.name, "--data", mnist_five, "--split", "test", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["n"] == 100 and [r["letter"] for r in data["per_class"]] == ["A", "B", "C", "D", "E"]
