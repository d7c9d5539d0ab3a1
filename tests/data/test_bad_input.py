"""Bad input: one clear error line naming the file (and line), exit code 2, index unchanged.

Every bad dataset is built in tmp_path from small real pieces of the shared datasets.
"""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fingerspell.cli import main
from fingerspell.data import Dataset, import_dataset
from tests.data.helpers import datasets_snapshot


def mnist_lines(datasets_root: Path, rows: int = 50) -> list[str]:
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_train.csv.gz", "rt") as handle:
        return [handle.readline() for _ in range(rows + 1)]


def write_mnist(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sign_mnist_train.csv"
    path.write_text("".join(lines))
    return path


def letters_yolo(tmp_path: Path, datasets_root: Path, count: int = 6) -> Path:
    source = datasets_root / "asl-letters"
    out = tmp_path / "yolo"
    (out / "train" / "images").mkdir(parents=True)
    (out / "train" / "labels").mkdir(parents=True)
    shutil.copy(source / "data.yaml", out / "data.yaml")
    for image in sorted((source / "train" / "images").iterdir())[:count]:
        shutil.copy(image, out / "train" / "images" / image.name)
        shutil.copy(source / "train" / "labels" / f"{image.stem}.txt", out / "train" / "labels")
    return out


def letters_csv(tmp_path: Path, datasets_root: Path, count: int = 6) -> Path:
    source = datasets_root / "asl-letters" / "train"
    out = tmp_path / "csv"
    out.mkdir()
    lines = (source / "_annotations.csv").read_text().splitlines()[: count + 1]
    for line in lines[1:]:
        shutil.copy(source / "images" / line.split(",")[0], out)
    (out / "_annotations.csv").write_text("\n".join(lines) + "\n")
    return out


# Each case: build the bad input, return (path to import, text the error must contain).
def case_short_row(tmp_path, datasets_root):
    lines = mnist_lines(datasets_root)
    fields = lines[4].rstrip("\n").split(",")
    lines[4] = ",".join(fields[:701]) + "\n"  # label + 700 pixels, on line 5
    return write_mnist(tmp_path / "bad", lines), "sign_mnist_train.csv:5: row has 701 fields, expected 785"


def case_non_numeric_pixel(tmp_path, datasets_root):
    lines = mnist_lines(datasets_root)
    fields = lines[6].rstrip("\n").split(",")
    fields[10] = "abc"
    lines[6] = ",".join(fields) + "\n"
    return write_mnist(tmp_path / "bad", lines), "sign_mnist_train.csv:7: pixel10 = 'abc' is not an integer 0-255"


def case_pixel_out_of_range(tmp_path, datasets_root):
    lines = mnist_lines(datasets_root)
    fields = lines[9].rstrip("\n").split(",")
    fields[3] = "300"
    lines[9] = ",".join(fields) + "\n"
    return write_mnist(tmp_path / "bad", lines), "sign_mnist_train.csv:10: pixel3 = 300 is outside 0-255"


def case_mnist_label_j(tmp_path, datasets_root):
    lines = mnist_lines(datasets_root)
    lines[3] = "9" + lines[3][lines[3].index(","):]
    return write_mnist(tmp_path / "bad", lines), "sign_mnist_train.csv:4: label 9 is J"


def case_yolo_missing_image(tmp_path, datasets_root):
    root = letters_yolo(tmp_path, datasets_root)
    victim = sorted((root / "train" / "images").iterdir())[2]
    victim.unlink()
    return root, f"{victim.stem}.txt: annotation for image '{victim.stem}', which is not in"


def case_yolo_unknown_class(tmp_path, datasets_root):
    root = letters_yolo(tmp_path, datasets_root)
    label = sorted((root / "train" / "labels").iterdir())[1]
    label.write_text(label.read_text().rstrip("\n") + "\n26 0.5 0.5 0.2 0.2\n")
    return root, f"{label.name}:2: class id 26 is not in data.yaml names (0-25)"


def case_yolo_malformed_line(tmp_path, datasets_root):
    root = letters_yolo(tmp_path, datasets_root)
    label = sorted((root / "train" / "labels").iterdir())[0]
    label.write_text("0 0.5 0.5\n")
    return root, f"{label.name}:1: expected `class cx cy w h` (5 numbers), got 3 fields"


def case_csv_missing_image(tmp_path, datasets_root):
    root = letters_csv(tmp_path, datasets_root)
    lines = (root / "_annotations.csv").read_text().splitlines()
    missing = lines[3].split(",")[0]
    (root / missing).unlink()
    return root, f"_annotations.csv:4: image '{missing}' not found"


def case_csv_unknown_label(tmp_path, datasets_root):
    root = letters_csv(tmp_path, datasets_root)
    shutil.copy(datasets_root / "asl-letters" / "data.yaml", root / "data.yaml")
    lines = (root / "_annotations.csv").read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",hello"
    (root / "_annotations.csv").write_text("\n".join(lines) + "\n")
    return root / "_annotations.csv", "_annotations.csv:6: label 'hello' is not in the class list of data.yaml"


def case_csv_bad_number(tmp_path, datasets_root):
    root = letters_csv(tmp_path, datasets_root)
    lines = (root / "_annotations.csv").read_text().splitlines()
    parts = lines[2].split(",")
    parts[1] = "left"
    lines[2] = ",".join(parts)
    (root / "_annotations.csv").write_text("\n".join(lines) + "\n")
    return root, "_annotations.csv:3: xmin = 'left' is not a number"


def case_coco_unknown_category(tmp_path, datasets_root):
    import json

    root = tmp_path / "coco"
    root.mkdir()
    images = sorted((datasets_root / "asl-letters" / "train" / "images").iterdir())[:2]
    for image in images:
        shutil.copy(image, root)
    document = {
        "images": [{"id": i, "file_name": p.name, "width": 384, "height": 384} for i, p in enumerate(images)],
        "annotations": [{"id": 0, "image_id": 0, "category_id": 0, "bbox": [10, 10, 50, 50]},
                        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 50, 50]}],
        "categories": [{"id": 0, "name": "A"}],
    }
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    return root, "_annotations.coco.json: annotation 1: category id 7 is not in `categories`"


def case_empty_folder(tmp_path, datasets_root):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty", "empty: folder is empty, nothing to import"


def case_class_folders_without_images(tmp_path, datasets_root):
    for name in ("A", "B"):
        (tmp_path / "classes" / name).mkdir(parents=True)
        (tmp_path / "classes" / name / "notes.txt").write_text("no images here")
    return tmp_path / "classes", "classes: cannot tell the dataset format"


def case_pickled_npz(tmp_path, datasets_root):
    path = tmp_path / "pickled.npz"
    np.savez(path, x=np.zeros((2, 21, 3), np.float32), y=np.array([{"letter": "A"}, {"letter": "B"}], dtype=object))
    return path, "pickled.npz: cannot load without pickle"


CASES = [
    case_short_row, case_non_numeric_pixel, case_pixel_out_of_range, case_mnist_label_j,
    case_yolo_missing_image, case_yolo_unknown_class, case_yolo_malformed_line,
    case_csv_missing_image, case_csv_unknown_label, case_csv_bad_number,
    case_coco_unknown_category, case_empty_folder, case_class_folders_without_images, case_pickled_npz,
]


@pytest.mark.parametrize("make_case", CASES, ids=[c.__name__.removeprefix("case_") for c in CASES])
def test_bad_input_one_clear_line_and_index_unchanged(make_case, tmp_path, datasets_root, capsys):
    # A good index already exists under the name the bad import will try to replace.
    good = import_dataset(write_mnist(tmp_path / "good", mnist_lines(datasets_root, 20)), name="target")
    good_rows = [(s.source, s.row, s.label) for s in good.samples()]
    good.close()
    before = datasets_snapshot()
    path, expected = make_case(tmp_path, datasets_root)
    capsys.readouterr()

    for name_args in (["--name", "target", "--replace"], ["--name", "fresh"]):
        code = main(["data", "import", str(path), *name_args])
        captured = capsys.readouterr()
        assert code == 2
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
        assert captured.out == ""
        assert datasets_snapshot() == before  # byte-identical index, no new index, no temp file left
    with Dataset.load("target") as ds:
        assert [(s.source, s.row, s.label) for s in ds.samples()] == good_rows


def test_bad_input_from_a_real_process(tmp_path, datasets_root):
    """The installed command exits non-zero with one line on stderr (no traceback)."""
    path, expected = case_short_row(tmp_path, datasets_root)
    env = {**os.environ, "FINGERSPELL_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "data", "import", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {path}:5: row has 701 fields, expected 785 (label + 784 pixels)"]
    assert not list((tmp_path / "home" / "datasets").glob("*.sqlite"))
