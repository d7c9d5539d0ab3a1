"""`fingerspell predict` on real photos: reports match the images, JSON per image, bad sources."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from fingerspell.cli import main
from fingerspell.infer.batch import run_prediction


@pytest.fixture()
def photos(datasets_root, tmp_path):
    """Real Massey photos in class folders (b, l, y: 3 each), one corrupt file, one digit folder."""
    root = tmp_path / "photos"
    for name, count in (("b", 3), ("l", 3), ("y", 3), ("5", 1)):
        (root / name).mkdir(parents=True)
        for path in sorted((datasets_root / "massey" / "asl_dataset" / name).iterdir())[:count]:
            shutil.copy(path, root / name / path.name)
    (root / "y" / "zz_broken.jpg").write_bytes(b"not a jpeg at all")
    return root


def test_folder_report_rows_match_the_images(photos, bundle_dir, tmp_path, capsys):
    report = tmp_path / "report.csv"
    code = main(["predict", str(photos), "--model", str(bundle_dir), "--report", str(report)])
    assert code == 0
    out = capsys.readouterr().out
    images = sorted(str(p) for p in photos.rglob("*") if p.is_file())
    with report.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["path"] for r in rows) == images
    by_path = {r["path"]: r for r in rows}
    broken = by_path[str(photos / "y" / "zz_broken.jpg")]
    assert "cannot decode" in broken["error"] and broken["letter"] == ""
    # Folder names that are classes give an expected label; the digit folder does not.
    labelled = [r for r in rows if r["expected"]]
    assert {r["expected"] for r in labelled} == {"B", "L", "Y"} and len(labelled) == 10
    assert not by_path[str(next((photos / "5").iterdir()))]["expected"]
    correct = sum(int(r["correct"]) for r in labelled)
    assert correct >= 6, f"only {correct}/10 photos right"  # B, L, Y are easy letters
    # One readable line per image and a summary with the accuracy against folder names.
    assert out.count(": ") >= len(images)
    assert f"accuracy against folder names: {correct}/10" in out
    assert f"report: {report}" in out


def test_json_prints_one_record_per_image(photos, bundle_dir, capsys):
    code = main(["predict", str(photos / "l"), "--model", str(bundle_dir), "--json", "--report",
                 str(photos.parent / "r.json")])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    per_image, summary = records[:-1], records[-1]
    assert len(per_image) == 3 and summary["summary"] is True and summary["items"] == 3
    for record in per_image:
        assert record["path"].endswith(".jpeg")
        assert set(record) >= {"letter", "confidence", "top5", "hand_box", "landmarks", "timings_ms"}
        assert len(record["top5"]) == 5 and record["top5"][0][1] >= record["top5"][1][1]
        if record["hand"]:
            assert len(record["landmarks"]) == 21
    report = json.loads((photos.parent / "r.json").read_text())
    assert len(report) == 3


def test_two_workers_give_the_same_answers_as_one(photos, bundle_dir):
    from io import StringIO

    one = run_prediction(str(photos), model=bundle_dir, workers=1, out=StringIO(), progress=False,
                         report=photos.parent / "one.csv")
    two = run_prediction(str(photos), model=bundle_dir, workers=2, out=StringIO(), progress=False,
                         report=photos.parent / "two.csv")
    assert (one.items, one.hands, one.correct) == (two.items, two.hands, two.correct)
    rows = lambda name: [(r["path"], r["letter"]) for r in csv.DictReader((photos.parent / name).open())]
    assert rows("one.csv") == rows("two.csv")


def test_a_folder_gets_a_worker_per_core_by_default():
    # MediaPipe runs on one core: without --workers a folder uses the cores, but a small one
    # stays in one process (starting a worker costs about a second) and big machines get 4.
    from fingerspell.infer.batch import MAX_DEFAULT_WORKERS, MIN_IMAGES_PER_WORKER, default_workers

    cores = len(os.sched_getaffinity(0))
    assert default_workers(0) == default_workers(MIN_IMAGES_PER_WORKER - 1) == 1
    assert default_workers(10_000) == min(cores, MAX_DEFAULT_WORKERS)
    assert default_workers(2 * MIN_IMAGES_PER_WORKER) == min(cores, 2)


def test_classes_and_conf_filter(photos, bundle_dir, capsys):
    image = sorted((photos / "b").iterdir())[0]
    assert main(["predict", str(image), "--model", str(bundle_dir), "--classes", "A,L", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert {name for name, _ in record["top5"]} <= {"A", "L"}
    assert main(["predict", str(image), "--model", str(bundle_dir), "--conf", "1.0", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["letter"] is None and record["top5"]


def test_save_writes_annotated_images(photos, bundle_dir, tmp_path):
    out = tmp_path / "annotated"
    assert main(["predict", str(photos / "b"), "--model", str(bundle_dir), "--save", str(out)]) == 0
    assert len(list(out.glob("*_pred.jpg"))) == 3
    single = tmp_path / "one.png"
    image = sorted((photos / "b").iterdir())[0]
    assert main(["predict", str(image), "--model", str(bundle_dir), "--save", str(single)]) == 0
    assert single.is_file() and single.stat().st_size > 1000


@pytest.mark.parametrize("source, message", [
    ("no/such/folder", "error: no/such/folder: no such file or folder"),
    ("77", "error: camera 77: no camera found"),
    ("{tmp}/bad.mp4", "error: {tmp}/bad.mp4: cannot open video"),
    ("{tmp}/bad.jpg", "error: {tmp}/bad.jpg: cannot decode image"),
])
def test_bad_sources_give_one_clear_line(source, message, bundle_dir, tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 512)
    (tmp_path / "bad.jpg").write_bytes(b"garbage")
    source, message = source.format(tmp=tmp_path), message.format(tmp=tmp_path)
    result = subprocess.run([sys.executable, "-m", "fingerspell", "predict", source, "--model", str(bundle_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
    assert result.stderr.strip().startswith(message)
    assert "Traceback" not in result.stderr


def test_live_without_a_gui_says_so(bundle_dir):
    result = subprocess.run([sys.executable, "-m", "fingerspell", "live", "--model", str(bundle_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot open a live window" in result.stderr and "fingerspell serve --open" in result.stderr
    assert "fingerspell predict 0 --save" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_has_help(capsys):
    for command in (["predict"], ["export"], ["live"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert len(capsys.readouterr().out) > 200


def test_fast_looks_at_each_image_once_and_gives_the_same_letters(photos, bundle_dir):
    from io import StringIO

    full = run_prediction(str(photos / "l"), model=bundle_dir, report=photos.parent / "full.csv", out=StringIO(),
                          progress=False, still="full")
    fast = run_prediction(str(photos / "l"), model=bundle_dir, report=photos.parent / "fast.csv", out=StringIO(),
                          progress=False, test_views=False)
    assert full.items == fast.items == 3
    with (photos.parent / "full.csv").open() as a, (photos.parent / "fast.csv").open() as b:
        full_rows, fast_rows = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert [r["letter"] for r in full_rows] == [r["letter"] for r in fast_rows] == ["L"] * 3
    # One detection per image: less time in the hand stage than with the extra views.
    hands_ms = lambda rows: sum(float(r["ms_hands"]) for r in rows)  # noqa: E731
    assert hands_ms(fast_rows) < hands_ms(full_rows)
