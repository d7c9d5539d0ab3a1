"""Importing the real shared datasets: counts, labels, groups and boxes as the issue requires."""
from __future__ import annotations

import csv
import gzip
import hashlib
import shutil
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerspell.data import Dataset, import_dataset
from fingerspell.data.formats import detect_format, list_formats


def test_every_format_is_registered():
    assert {"coco", "corners-csv", "folders", "landmarks", "sign-mnist", "yolo"} <= set(list_formats())


def test_sign_mnist_full_import(datasets_root):
    start = time.perf_counter()
    ds = import_dataset(datasets_root / "sign-mnist")
    elapsed = time.perf_counter() - start
    assert ds.format == "sign-mnist"
    assert ds.meta["detected"].startswith("auto-detected sign-mnist")
    assert ds.count("train") == 27_455
    assert ds.count("test") == 7_172
    assert len(ds.classes) == 24 and "J" not in ds.classes and "Z" not in ds.classes
    first = next(ds.samples())
    # The first data row of sign_mnist_train.csv is line 2 (the header is line 1); its label is 3 -> D.
    assert (first.source, first.row, first.label, first.split) == ("sign_mnist_train.csv.gz", 2, "D", "train")
    pixels = ds.image(first)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert first.hash == hashlib.sha256(pixels.tobytes()).hexdigest()
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_train.csv.gz", "rt") as handle:
        handle.readline()
        values = [int(v) for v in handle.readline().split(",")]
    assert pixels.reshape(-1).tolist() == values[1:]
    labels = Counter(s.label for s in ds.samples(split="test"))
    assert set(labels) == set(ds.classes)
    # A floor, not the benchmark (bench/bench_import.py: 3.8-6.6 s): generous so a busy CI machine passes.
    assert elapsed < 60, f"Sign-MNIST import took {elapsed:.1f} s"


def test_sign_mnist_single_plain_csv(tmp_path, datasets_root):
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as handle:
        lines = [handle.readline() for _ in range(51)]
    path = tmp_path / "sign_mnist_test.csv"
    path.write_text("".join(lines))
    assert detect_format(path)[0] == "sign-mnist"
    ds = import_dataset(path, name="mnist-small")
    samples = list(ds.samples())
    assert len(samples) == 50
    assert [s.row for s in samples] == list(range(2, 52))
    assert {s.split for s in samples} == {"test"}
    assert samples[0].label == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(lines[1].split(",")[0])]


def test_asl_alphabet_class_folders(datasets_root):
    ds = import_dataset(datasets_root / "asl-alphabet")
    assert ds.format == "folders"
    assert ds.count() == 5_800
    assert len(ds.classes) == 29
    assert ds.classes[-3:] == ["del", "nothing", "space"]
    counts = Counter(s.label for s in ds.samples())
    assert set(counts.values()) == {200}
    sample = next(ds.samples(where="label = ?", params=("space",)))
    assert sample.source.startswith("asl_alphabet_train/space/")
    assert (sample.width, sample.height) == (200, 200)
    assert sample.hash == hashlib.sha256((ds.root / sample.source).read_bytes()).hexdigest()
    assert sample.signer is None and sample.split is None


def test_massey_classes_and_signers(datasets_root):
    ds = import_dataset(datasets_root / "massey")
    assert ds.count() == 2_155
    assert len(ds.classes) == 36
    assert ds.classes[:10] == [str(d) for d in range(10)] and "A" in ds.classes and "a" not in ds.classes
    signers = Counter(s.signer for s in ds.samples())
    assert set(signers) == {"hand1", "hand2", "hand3", "hand4"}
    # Folder `a` holds hand<N>_a_... files: the class is upper-case A, the signer from the name.
    sample = next(ds.samples(where="label = ?", params=("A",)))
    assert Path(sample.source).parent.name == "a" and sample.signer == Path(sample.source).name.split("_")[0]
    assert (sample.width, sample.height) == (400, 400)


def test_group_pattern_overrides_the_default(datasets_root):
    ds = import_dataset(datasets_root / "massey", name="massey-light", group_pattern=r"_(bot|top|left|right|dif)_")
    assert set(Counter(s.signer for s in ds.samples())) == {"bot", "top", "left", "right", "dif"}
    assert ds.meta["group_pattern"] == r"_(bot|top|left|right|dif)_"


def test_asl_letters_yolo_and_csv_agree(datasets_root):
    yolo = import_dataset(datasets_root / "asl-letters")
    assert yolo.format == "yolo"
    table = import_dataset(datasets_root / "asl-letters" / "train" / "_annotations.csv", name="letters-csv")
    assert table.format == "corners-csv"
    for ds in (yolo, table):
        assert ds.count() == 1_512
        assert len(ds.classes) == 26
        assert {s.instances for s in ds.samples()} == {1}
    by_file = {Path(s.source).name: s for s in table.samples()}
    assert len(by_file) == 1_512
    worst = 0.0
    for sample in yolo.samples():
        other = by_file[Path(sample.source).name]
        assert sample.label == other.label == sample.boxes[0].label
        a, b = sample.boxes[0], other.boxes[0]
        worst = max(worst, *(abs(x - y) for x, y in zip(a.as_list()[:4], b.as_list()[:4])))
    assert worst <= 1.0, f"YOLO and CSV boxes differ by {worst:.2f} px"
    # Augmented copies of one photo share the <letter><n> prefix as their group.
    groups = Counter(s.signer for s in yolo.samples())
    assert len(groups) == 504 and set(groups.values()) == {3}
    first = next(yolo.samples())
    assert first.signer == Path(first.source).name.split("_")[0]


def test_landmarks_npz(datasets_root):
    ds = import_dataset(datasets_root / "asl-landmarks")
    assert ds.format == "landmarks" and ds.has_images is False
    assert ds.count() == 10_508
    assert len(ds.classes) == 26
    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as archive:
        x, y = archive["x"], archive["y"]
    assert Counter(s.label for s in ds.samples()) == Counter(y.tolist())
    rows = ds.db.execute("SELECT sample_id, points FROM landmarks ORDER BY sample_id").fetchall()
    assert len(rows) == 10_508
    sample = ds.sample(rows[100][0])
    assert np.array_equal(np.frombuffer(rows[100][1], dtype=np.float32).reshape(21, 3), x[sample.row - 1])


def _small_letters_csv(tmp_path: Path, datasets_root: Path, header: list[str], count: int = 12) -> Path:
    """A few real images of the letters set with a differently shaped corners CSV."""
    source = datasets_root / "asl-letters" / "train"
    with (source / "_annotations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))[:count]
    folder = tmp_path / "letters"
    folder.mkdir(parents=True)
    with (folder / "boxes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            shutil.copy(source / "images" / row["filename"], folder / row["filename"])
            height, width = cv2.imread(str(folder / row["filename"])).shape[:2]
            values = {"filename": row["filename"], "width": str(width), "height": str(height), "class": row["label"],
                      "label": row["label"], "xmin": row["xmin"], "ymin": row["ymin"], "xmax": row["xmax"],
                      "ymax": row["ymax"]}
            writer.writerow([values[h] for h in header])
    return folder


def test_corners_csv_tensorflow_column_order(tmp_path, datasets_root):
    folder = _small_letters_csv(tmp_path, datasets_root, ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"])
    ds = import_dataset(folder, name="tf-order")
    assert ds.format == "corners-csv" and ds.count() == 12
    sample = next(ds.samples())
    assert sample.boxes[0].as_list() == [68.0, 109.0, 337.0, 281.0, "A"]


def test_corners_csv_normalised(tmp_path, datasets_root):
    pixel = _small_letters_csv(tmp_path / "a", datasets_root, ["filename", "xmin", "ymin", "xmax", "ymax", "label"])
    norm = tmp_path / "b"
    norm.mkdir()
    # Same boxes divided by the image size.
    lines = (pixel / "boxes.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        name, *corners, label = line.split(",")
        height, width = cv2.imread(str(pixel / name)).shape[:2]
        scale = [width, height, width, height]
        out.append(",".join([name, *(str(float(v) / s) for v, s in zip(corners, scale)), label]))
        shutil.copy(pixel / name, norm / name)
    (norm / "boxes.csv").write_text("\n".join(out) + "\n")
    a = {s.source: s.boxes for s in import_dataset(pixel, name="pixel").samples()}
    b = {s.source: s.boxes for s in import_dataset(norm, name="norm").samples()}
    assert a.keys() == b.keys()
    for key in a:
        assert np.allclose(a[key][0].as_list()[:4], b[key][0].as_list()[:4], atol=1e-6)


def test_import_refuses_existing_name_unless_replace(tmp_path, datasets_root):
    folder = _small_letters_csv(tmp_path, datasets_root, ["filename", "xmin", "ymin", "xmax", "ymax", "label"])
    import_dataset(folder, name="twice")
    from fingerspell.errors import DatasetExistsError

    with pytest.raises(DatasetExistsError):
        import_dataset(folder, name="twice")
    assert import_dataset(folder, name="twice", replace=True).count() == 12
    assert Dataset.load("twice").count() == 12
