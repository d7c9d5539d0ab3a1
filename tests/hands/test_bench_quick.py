"""`fingerspell bench accuracy --quick` end to end on small real subsets of the shared data."""
from __future__ import annotations

import json

import pytest

from fingerspell.cli import main


@pytest.mark.slow
def test_bench_accuracy_quick_writes_json_and_markdown_with_sane_numbers(datasets_root, tmp_path, capsys):
    out = tmp_path / "accuracy"
    code = main(["bench", "accuracy", "--quick", "--out", str(out), "--data-root", str(datasets_root)])
    assert code == 0
    results = json.loads((out / "accuracy.json").read_text())
    markdown = (out / "accuracy.md").read_text()

    assert results["quick"] is True
    for name in ("massey", "asl-letters", "asl-alphabet", "asl-landmarks"):
        extraction = results["extraction"][name]
        assert extraction["samples"] > 50
        assert 0.8 <= extraction["found_rate"] <= 1.0
    # Fresh home: the image datasets were really run through MediaPipe, at a measured speed.
    assert results["extraction"]["massey"]["images_per_s"] > 0

    protocols = results["protocols"]
    expected = {"massey-loso", "massey-loso+extra", "asl-letters-grouped", "asl-letters-grouped+extra", "cross-dataset"}
    assert expected <= set(protocols)
    for name, protocol in protocols.items():
        assert 0.0 <= protocol["top1"] <= 1.0, name
        assert 0.0 <= protocol["no_hand_rate"] <= 0.2, name
        assert 0.0 <= protocol["static_top1"] <= 1.0, name
        assert protocol["n"] > 0, name
    # Test-time views score the unseen-signer/photo protocols; the single view stays reported.
    assert 0.0 <= protocols["asl-letters-grouped"]["single_view_top1"] <= 1.0
    loso = protocols["massey-loso"]
    assert set(loso["folds"]) == {"hand1", "hand2", "hand3", "hand4"}
    assert loso["n"] == sum(f["n"] for f in loso["folds"].values())
    # Small subsets and few epochs, but a real classifier: far above chance (1/24).
    assert loso["top1"] > 0.6
    assert protocols["massey-loso+extra"]["top1"] > 0.6
    # Per protocol, the answers as `predict` gives them (the one evaluation path): letters given
    # right at the default threshold, top-1, coverage, ECE and the worst three letters.
    for name in ("massey-loso", "massey-loso+extra", "asl-letters-grouped", "asl-letters-grouped+extra"):
        answers = protocols[name]["answers"]
        assert answers["top1"] == pytest.approx(protocols[name]["static_top1" if name.startswith("massey") else "top1"], abs=1e-3)
        assert 0.0 <= answers["letters_right"] <= min(answers["top1"], answers["coverage"]) + 1e-9
        assert 0.0 <= answers["ece"] <= 1.0 and len(answers["worst_letters"]) == 3
    matrix = protocols["cross-dataset"]["matrix"]
    assert set(matrix) == {"massey", "asl-letters", "asl-alphabet", "asl-landmarks", "all"}
    assert "massey" not in matrix["massey"]  # never tested on the training set
    assert "sign_mnist" in results
    assert results["default_bundle"]["onnx_bytes"] > 0

    assert "| massey-loso |" in markdown and "Cross-dataset" in markdown and "letters given right" in markdown
    assert "accuracy.md" in capsys.readouterr().out
