"""Landmark extraction over a dataset: cached in the index, re-run only for what changed,
unreadable images recorded (not fatal), landmark-only datasets left alone."""
from __future__ import annotations

import hashlib
import os
import shutil
import warnings

import numpy as np
import pytest

from fingerspell.cli import main as cli_main
from fingerspell.data.index import Box, Dataset, SampleRecord
from fingerspell.hands.extract import HandExtractionWarning, extract_landmarks, load_landmarks

os.environ.setdefault("GLOG_minloglevel", "2")

MASSEY = [
    ("a", "hand1_a_bot_seg_1_cropped.jpeg"),   # plain MediaPipe finds it
    ("s", "hand2_s_right_seg_3_cropped.jpeg"),  # only a padded retry finds it
    ("b", "hand1_b_bot_seg_1_cropped.jpeg"),
]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def small_massey(tmp_path, datasets_root) -> Dataset:
    """Three real Massey images plus one corrupt file, as an imported index."""
    root = tmp_path / "small"
    records = []
    for letter, name in MASSEY:
        target = root / letter / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(datasets_root / "massey" / "asl_dataset" / letter / name, target)
        records.append(SampleRecord(source=f"{letter}/{name}", label=letter.upper(), signer=name.split("_")[0],
                                    width=400, height=400, hash=_sha(target)))
    broken = root / "c" / "broken.jpeg"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    records.append(SampleRecord(source="c/broken.jpeg", label="C", width=400, height=400, hash=_sha(broken)))
    return Dataset.create("small", root=root, format="folders", classes=["A", "B", "C", "S"], records=records)


def test_extraction_fills_the_table_and_records_a_corrupt_image_as_no_hand(small_massey):
    with pytest.warns(HandExtractionWarning, match="broken.jpeg"):
        stats = extract_landmarks(small_massey, progress=False)
    assert stats.computed == 4 and stats.cached == 0
    assert stats.found == 3 and stats.with_hand == 4
    assert any("broken.jpeg" in e for e in stats.errors)
    assert stats.worst_letters(1)[0][0] == "C"

    rows = load_landmarks(small_massey)
    by_source = {small_massey.sample(i).source: row for i, row in rows.items()}
    assert len(rows) == 4
    broken = by_source["c/broken.jpeg"]
    assert not broken.found and broken.points is None and broken.method == "unreadable"
    padded = by_source["s/hand2_s_right_seg_3_cropped.jpeg"]
    assert padded.found and "pad" in padded.method
    for row in rows.values():
        if row.found:
            assert row.points.shape == (21, 3) and row.points.dtype == np.float32
            assert row.world.shape == (21, 3)
            assert row.handedness in ("Left", "Right")
            assert 0 <= row.points[:, :2].mean() <= 1
            xmin, ymin, xmax, ymax = row.box
            assert 0 <= xmin < xmax <= 400 and 0 <= ymin < ymax <= 400


def test_second_run_does_nothing_and_a_changed_sample_reruns(small_massey, datasets_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HandExtractionWarning)
        first = extract_landmarks(small_massey, progress=False)
        second = extract_landmarks(small_massey, progress=False)
    assert first.computed == 4
    assert second.computed == 0 and second.cached == 4 and second.found == first.found

    # Replace the corrupt file with a real image and re-import its hash (what a re-import does).
    broken = next(s for s in small_massey.samples() if s.source == "c/broken.jpeg")
    source = datasets_root / "massey" / "asl_dataset" / "c" / "hand1_c_bot_seg_1_cropped.jpeg"
    shutil.copy(source, small_massey.file_path(broken))
    with small_massey.db:
        small_massey.db.execute("UPDATE samples SET hash = ? WHERE id = ?", (_sha(source), broken.id))
    assert broken.id not in {i for i, r in load_landmarks(small_massey).items()}  # stale row hidden
    third = extract_landmarks(small_massey, progress=False)
    assert third.computed == 1 and third.cached == 3
    assert third.found == 4 and third.errors == []
    assert load_landmarks(small_massey)[broken.id].found


def test_other_detector_settings_or_force_rerun_everything(small_massey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HandExtractionWarning)
        extract_landmarks(small_massey, progress=False)
        plain = extract_landmarks(small_massey, progress=False, detector_settings={"robust": False})
        forced = extract_landmarks(small_massey, progress=False, detector_settings={"robust": False}, force=True)
    assert plain.computed == 4 and forced.computed == 4
    assert plain.found == 2  # without the padded retry the tightly cropped S is lost
    assert all(r.method in ("plain", "unreadable", None) for r in load_landmarks(small_massey).values())


def test_hint_boxes_are_used_and_part_of_the_cache_key(tmp_path, datasets_root):
    import csv

    folder = datasets_root / "asl-letters" / "train"
    with open(folder / "_annotations.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["filename"].startswith(("B11_", "L1"))][:3]
    records = []
    for r in rows:
        path = folder / "images" / r["filename"]
        box = Box(float(r["xmin"]), float(r["ymin"]), float(r["xmax"]), float(r["ymax"]), r["label"])
        records.append(SampleRecord(source=f"images/{r['filename']}", label=r["label"], width=416, height=416,
                                    boxes=[box], hash=_sha(path)))
    ds = Dataset.create("letters", root=folder, format="yolo", classes=["B", "L"], records=records)
    stats = extract_landmarks(ds, progress=False)
    assert stats.found == 3
    for sample_id, row in load_landmarks(ds).items():
        box = ds.sample(sample_id).boxes[0]
        cx, cy = row.points[:, 0].mean() * 416, row.points[:, 1].mean() * 416
        assert box.xmin - 20 <= cx <= box.xmax + 20 and box.ymin - 20 <= cy <= box.ymax + 20
    # Deleting the box (a label fix) changes what the detector is told: that sample re-runs.
    ds.add_fix(next(iter(ds.samples())).id, "delete-box", "0", "test")
    again = extract_landmarks(ds, progress=False)
    assert again.computed == 1 and again.cached == 2


def test_landmark_dataset_is_left_as_imported(tmp_path):
    points = np.random.default_rng(0).random((21, 3)).astype(np.float32)
    records = [SampleRecord(source="landmarks.npz", row=i + 1, label="A", hash=f"h{i}", landmarks=points)
               for i in range(3)]
    ds = Dataset.create("lm", root=tmp_path, format="landmarks", classes=["A"], records=records)
    stats = extract_landmarks(ds, progress=False)
    assert stats.skipped and stats.computed == 0 and stats.found == 3
    rows = load_landmarks(ds)
    assert len(rows) == 3 and np.allclose(rows[1].points, points)


def test_cli_data_landmarks_prints_found_rate_and_caches(small_massey, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HandExtractionWarning)
        assert cli_main(["data", "landmarks", "small"]) == 0
    out = capsys.readouterr()
    assert "detected 4 sample(s)" in out.out
    assert "hands found: 3/4 = 75.00%" in out.out
    assert "worst letters: C 0.0%" in out.out
    assert "broken.jpeg" in out.err
    assert cli_main(["data", "landmarks", "small"]) == 0
    assert "all 4 sample(s) up to date" in capsys.readouterr().out


def test_cli_unknown_dataset_is_one_clear_error(capsys):
    assert cli_main(["data", "landmarks", "nope"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err


def test_two_worker_processes_give_the_same_answers(small_massey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HandExtractionWarning)
        extract_landmarks(small_massey, progress=False, workers=1)
        single = load_landmarks(small_massey)
        stats = extract_landmarks(small_massey, progress=False, workers=2, force=True)
    double = load_landmarks(small_massey)
    assert stats.computed == 4 and stats.found == 3 and len(stats.errors) == 1
    for sample_id, row in single.items():
        assert double[sample_id].found == row.found and double[sample_id].method == row.method
        if row.found:
            assert np.allclose(double[sample_id].points, row.points, atol=1e-4)


def test_pixel_row_dataset_runs_in_two_worker_processes(datasets_root):
    """Sign-MNIST rows live in the index: the pool's feeder thread must not touch SQLite."""
    import gzip

    records = []
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as handle:
        next(handle)
        for line_no, line in zip(range(2, 8), handle):
            values = [int(v) for v in line.split(",")]
            records.append(SampleRecord(source="sign_mnist_test.csv.gz", row=line_no, label=chr(65 + values[0]),
                                        width=28, height=28, pixels=bytes(values[1:]), split="test",
                                        hash=hashlib.sha256(bytes(values[1:])).hexdigest()))
    ds = Dataset.create("mnist-rows", root=datasets_root / "sign-mnist", format="sign-mnist",
                        classes=sorted({r.label for r in records}), records=records)
    stats = extract_landmarks(ds, progress=False, workers=2)
    assert stats.computed == 6 and not stats.errors
    assert len(load_landmarks(ds)) == 6
