"""Fixes as a layer (relabel / remove / delete-box, undo) and export in every format."""
from __future__ import annotations

import hashlib
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from fingerspell.cli import main
from fingerspell.data import Dataset, import_dataset
from fingerspell.data.export import export_dataset
from fingerspell.data.info import class_chart, dataset_info
from fingerspell.errors import FingerspellError


def small_letters(tmp_path: Path, datasets_root: Path, per_letter: int = 3) -> Path:
    """A real YOLO subset of asl-letters: data.yaml + the first `per_letter` images of each letter."""
    source = datasets_root / "asl-letters"
    out = tmp_path / "letters-yolo"
    (out / "train" / "images").mkdir(parents=True)
    (out / "train" / "labels").mkdir(parents=True)
    shutil.copy(source / "data.yaml", out / "data.yaml")
    taken: dict[str, int] = defaultdict(int)
    for image in sorted((source / "train" / "images").iterdir()):
        letter = image.name[0]
        if taken[letter] >= per_letter:
            continue
        taken[letter] += 1
        shutil.copy(image, out / "train" / "images" / image.name)
        shutil.copy(source / "train" / "labels" / f"{image.stem}.txt", out / "train" / "labels" / f"{image.stem}.txt")
    return out


def boxes_by_file(ds: Dataset) -> dict[str, list]:
    return {Path(s.source).name: [b.as_list() for b in s.boxes] for s in ds.samples()}


def assert_same_boxes(a: dict[str, list], b: dict[str, list], tol: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name])
        for box_a, box_b in zip(a[name], b[name]):
            assert box_a[4] == box_b[4], name
            assert np.allclose(box_a[:4], box_b[:4], atol=tol), (name, box_a, box_b)


def test_round_trip_yolo_corners_csv_yolo(tmp_path, datasets_root):
    original = import_dataset(small_letters(tmp_path, datasets_root), name="letters")
    assert original.count() == 78
    first = boxes_by_file(original)

    export_dataset(original, "corners-csv", tmp_path / "as-csv")
    assert (tmp_path / "as-csv" / "train" / "_annotations.csv").read_text().startswith("filename,xmin,ymin,xmax,ymax,label\n")
    from_csv = import_dataset(tmp_path / "as-csv", name="from-csv")
    assert from_csv.format == "corners-csv"
    assert from_csv.classes == original.classes
    assert_same_boxes(first, boxes_by_file(from_csv), tol=0.001)

    export_dataset(from_csv, "yolo", tmp_path / "as-yolo")
    again = import_dataset(tmp_path / "as-yolo", name="again")
    assert again.format == "yolo"
    # YOLO stores 6 decimals of the image size: well under a hundredth of a pixel here.
    assert_same_boxes(first, boxes_by_file(again), tol=0.01)
    assert [s.signer for s in again.samples()] == [s.signer for s in original.samples()]


def test_round_trip_coco(tmp_path, datasets_root):
    original = import_dataset(small_letters(tmp_path, datasets_root, per_letter=1), name="letters")
    export_dataset(original, "coco", tmp_path / "as-coco")
    document = json.loads((tmp_path / "as-coco" / "train" / "_annotations.coco.json").read_text())
    assert len(document["images"]) == 26 and len(document["annotations"]) == 26
    back = import_dataset(tmp_path / "as-coco", name="from-coco")
    assert back.format == "coco" and back.classes == original.classes
    assert_same_boxes(boxes_by_file(original), boxes_by_file(back), tol=0.001)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_relabel_shows_in_query_and_export_then_undo_restores(tmp_path, datasets_root, capsys):
    root = small_letters(tmp_path, datasets_root)
    ds = import_dataset(root, name="letters")
    target = next(ds.samples(where="label = ?", params=("A",)))
    source_file = ds.file_path(target)
    label_file = root / "train" / "labels" / f"{source_file.stem}.txt"
    before = (_sha(source_file), _sha(label_file))
    b_before = {s.id for s in ds.samples(where="label = ?", params=("B",))}
    ds.close()

    assert main(["data", "fix", "letters", "--relabel", f"{target.id}=b", "--reason", "looks like B"]) == 0
    ds = Dataset.load("letters")
    b_after = {s.id for s in ds.samples(where="label = ?", params=("B",))}
    assert b_after == b_before | {target.id}
    relabelled = ds.sample(target.id)
    assert (relabelled.label, relabelled.original_label, relabelled.boxes[0].label) == ("B", "A", "B")
    fixes = ds.fixes()
    assert fixes[0]["reason"] == "looks like B" and fixes[0]["created"]

    export_dataset(ds, "folders", tmp_path / "folders-fixed")
    assert (tmp_path / "folders-fixed" / "B" / source_file.name).is_file()
    assert not (tmp_path / "folders-fixed" / "A" / source_file.name).exists()
    export_dataset(ds, "yolo", tmp_path / "yolo-fixed")
    exported_label = (tmp_path / "yolo-fixed" / "train" / "labels" / f"{source_file.stem}.txt").read_text()
    assert exported_label.split()[0] == "1"  # class id of B
    assert (_sha(source_file), _sha(label_file)) == before  # source files untouched
    ds.close()

    assert main(["data", "fix", "letters", "--undo"]) == 0
    ds = Dataset.load("letters")
    assert ds.sample(target.id).label == "A"
    assert {s.id for s in ds.samples(where="label = ?", params=("B",))} == b_before
    export_dataset(ds, "folders", tmp_path / "folders-undone")
    assert (tmp_path / "folders-undone" / "A" / source_file.name).is_file()
    assert (_sha(source_file), _sha(label_file)) == before


def test_remove_and_delete_box_apply_on_export(tmp_path, datasets_root, capsys):
    ds = import_dataset(small_letters(tmp_path, datasets_root, per_letter=1), name="letters")
    samples = list(ds.samples())
    ds.close()
    assert main(["data", "fix", "letters", "--remove", str(samples[0].id)]) == 0
    assert main(["data", "fix", "letters", "--delete-box", f"{samples[1].id}:0", "--reason", "bad box"]) == 0
    capsys.readouterr()
    assert main(["data", "fix", "letters", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [f["action"] for f in listed] == ["remove", "delete-box"]

    ds = Dataset.load("letters")
    assert ds.count() == 25
    assert ds.sample(samples[1].id).instances == 0
    result = export_dataset(ds, "yolo", tmp_path / "out")
    assert result.images == 25 and result.boxes == 24
    assert not (tmp_path / "out" / "train" / "images" / Path(samples[0].source).name).exists()
    assert (tmp_path / "out" / "train" / "labels" / f"{Path(samples[1].source).stem}.txt").read_text() == ""
    # A corners CSV lists boxes, so the image whose box was deleted is left out (and said so).
    csv_result = export_dataset(ds, "corners-csv", tmp_path / "out-csv")
    assert csv_result.images == 24 and csv_result.notes
    # A fix for a sample that does not exist is refused with one clear line.
    assert main(["data", "fix", "letters", "--relabel", "99999=A"]) == 2
    assert "no sample with id 99999" in capsys.readouterr().err


def test_export_sign_mnist_rows_as_png_folders(tmp_path, datasets_root):
    import gzip

    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_train.csv.gz", "rt") as handle:
        lines = [handle.readline() for _ in range(21)]
    (tmp_path / "sign_mnist_train.csv").write_text("".join(lines))
    ds = import_dataset(tmp_path / "sign_mnist_train.csv", name="mnist")
    result = export_dataset(ds, "folders", tmp_path / "out")
    assert result.images == 20
    back = import_dataset(tmp_path / "out", name="back")
    assert back.count() == 20
    assert sorted(s.label for s in back.samples()) == sorted(s.label for s in ds.samples())
    png = next((tmp_path / "out" / "train").rglob("sign_mnist_train_2.png"))
    first = next(ds.samples())
    import cv2

    assert np.array_equal(cv2.imread(str(png), cv2.IMREAD_GRAYSCALE), ds.image(first))
    # The box formats need boxes.
    with pytest.raises(FingerspellError, match="no boxes"):
        export_dataset(ds, "yolo", tmp_path / "yolo")


def test_export_refuses_a_non_empty_folder(tmp_path, datasets_root):
    ds = import_dataset(small_letters(tmp_path, datasets_root, per_letter=1), name="letters")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(FingerspellError, match="not an empty folder"):
        export_dataset(ds, "yolo", tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]


def test_info_counts_chart_and_imbalance(tmp_path, datasets_root, capsys):
    # Massey's classes are balanced (T has 55 of 60): no warning.
    ds = import_dataset(datasets_root / "massey")
    info = dataset_info(ds)
    assert info.samples == 2155 and info.by_group == {"hand1": 900, "hand2": 895, "hand3": 180, "hand4": 180}
    assert info.warnings == []
    chart = class_chart(info, tmp_path / "massey.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Remove most A samples: A now has 10, others 60 -> imbalance warning.
    a_ids = [s.id for s in ds.samples(where="label = ?", params=("A",))][:50]
    for sample_id in a_ids:
        ds.add_fix(sample_id, "remove", reason="test imbalance")
    info = dataset_info(ds)
    assert info.by_class["A"] == 10 and info.imbalance_ratio == pytest.approx(6.0)
    assert info.warnings and "imbalance" in info.warnings[0]
    ds.close()

    assert main(["data", "info", "massey", "--json", "--chart", str(tmp_path / "chart.png")]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["by_class"]["A"] == 10 and shown["samples"] == 2105
    assert Path(shown["chart"]).is_file()
    assert main(["data", "info", "massey"]) == 0
    captured = capsys.readouterr()
    assert "warning: class imbalance" in captured.err
    assert (Path(Dataset.load("massey").path).with_name("massey.classes.png")).is_file()

    assert main(["data", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["format"], d["samples"]) for d in listed] == [("massey", "folders", 2105)]


def test_cli_import_says_what_auto_chose(tmp_path, datasets_root, capsys):
    assert main(["data", "import", str(small_letters(tmp_path, datasets_root, per_letter=1)), "--name", "x"]) == 0
    out = capsys.readouterr().out
    assert "auto-detected yolo" in out and "imported 26 samples in 26 classes as 'x'" in out


def test_every_subcommand_has_help(capsys):
    for command in ("import", "list", "info", "fix", "export"):
        with pytest.raises(SystemExit) as exit_info:
            main(["data", command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert "usage: fingerspell data " + command in text and len(text) > 150
