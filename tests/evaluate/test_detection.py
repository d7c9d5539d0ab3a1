"""Detection scoring: COCO mAP (pycocotools) of hand box + letter against asl-letters' real
annotated boxes, the tutorial's found-at-50% table, and `fingerspell eval --detection`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fingerspell.cli import main
from fingerspell.data.importer import import_dataset
from fingerspell.data.index import Dataset, SampleRecord
from fingerspell.evaluate.detection import Detection, boxed_samples, score_detections


@pytest.fixture
def letters(datasets_root) -> Dataset:
    return import_dataset(datasets_root / "asl-letters", name="asl-letters")


def _box(sample):
    b = sample.boxes[0]
    return (b.xmin, b.ymin, b.xmax, b.ymax)


def test_annotated_boxes_with_the_right_letters_score_a_perfect_map(letters):
    samples = boxed_samples(letters, limit=60)
    assert len(samples) == 60
    perfect = score_detections(letters, samples, [Detection(s.id, _box(s), s.boxes[0].label, 0.9) for s in samples])
    assert perfect.map50 == pytest.approx(1.0) and perfect.map50_95 == pytest.approx(1.0)
    assert all(r["found"] and r["ap50"] == pytest.approx(1.0) for r in perfect.per_letter)


def test_boxes_off_the_hand_wrong_letters_and_low_confidence_score_what_they_should(letters):
    samples = boxed_samples(letters, limit=60)
    # Every box moved right by its own width: IoU 0 with the annotation.
    moved = [Detection(s.id, (_box(s)[2], _box(s)[1], 2 * _box(s)[2] - _box(s)[0], _box(s)[3]), s.boxes[0].label, 0.9)
             for s in samples]
    assert score_detections(letters, samples, moved).map50 == pytest.approx(0.0)
    # The right box but always the letter A: only A's images can score.
    only_a = score_detections(letters, samples, [Detection(s.id, _box(s), "A", 0.9) for s in samples])
    assert 0.0 < only_a.map50 < 0.2
    assert [r["letter"] for r in only_a.per_letter if r["ap50"] > 0] == ["A"]
    # Right box and letter, but 40% sure: mAP is unchanged (one guess per image), the
    # tutorial's table says no letter is found at >= 50% confidence.
    unsure = score_detections(letters, samples, [Detection(s.id, _box(s), s.boxes[0].label, 0.4) for s in samples])
    assert unsure.map50 == pytest.approx(1.0)
    assert not any(r["found"] for r in unsure.per_letter)
    # No hand found anywhere: nothing scores, every image counted as no hand.
    none = score_detections(letters, samples, [Detection(s.id, None, None, 0.0) for s in samples])
    assert none.map50 == 0.0 and none.no_hand == 60


def test_eval_detection_runs_the_default_bundle_and_writes_the_report(letters, fs_home, capsys):
    assert main(["eval", "--detection", "--data", "asl-letters", "--limit", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 4 and report["boxes"] == 4
    assert 0.0 <= report["map50_95"] <= report["map50"] <= 1.0
    assert {"letter", "ap50", "ap50_95", "found", "confident"} <= set(report["per_letter"][0])
    out = Path(report["out"])
    assert (out / "detection.html").is_file() and "mAP@0.5" in (out / "detection.html").read_text()
    assert json.loads((out / "detection.json").read_text())["map50"] == report["map50"]
    assert "by default" in report["note"]  # the cascade, as `predict` reads images

    # --full reads every image with views and refined landmarks: same images, its own note.
    assert main(["eval", "--detection", "--data", "asl-letters", "--limit", "4", "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["images"] == 4 and "--full" in full["note"]


def test_detection_needs_boxes_and_no_run_name(tmp_path, capsys):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"not used")
    Dataset.create("plain", root=tmp_path, format="folders", classes=["A"],
                   records=[SampleRecord(source="a.jpg", label="A", width=10, height=10)])
    assert main(["eval", "--detection", "--data", "plain"]) == 2
    assert "has no annotated boxes" in capsys.readouterr().err
    assert main(["eval", "somerun", "--detection", "--data", "plain"]) == 2
    assert "not a run" in capsys.readouterr().err
    assert main(["eval", "--data", "plain"]) == 2
    assert "name the run" in capsys.readouterr().err
    assert main(["eval", "somerun", "--data", "plain", "--fast"]) == 2
    assert "--detection" in capsys.readouterr().err
