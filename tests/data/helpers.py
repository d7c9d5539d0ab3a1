"""Checks the bad-input tests share: the datasets folder byte for byte, a CLI run that fails
with exactly one `error:` line, and a one-image COCO folder to damage."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from fingerspell import home
from fingerspell.cli import main


def datasets_snapshot() -> dict[str, str]:
    """Every file in FINGERSPELL_HOME/datasets (temporaries included) and its sha256."""
    folder = home.datasets_dir()
    if not folder.exists():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def one_error(capsys, argv: list[str]) -> str:
    """Run the CLI; it must fail with exactly one `error:` line and print nothing else."""
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.out == ""
    return lines[0]


def one_image_coco(tmp_path: Path, datasets_root: Path) -> tuple[Path, dict]:
    """tmp_path/coco holding one real asl-letters photo, and a valid COCO document naming it
    (image 0, annotation 0, category 0 "A") for the test to damage and write."""
    root = tmp_path / "coco"
    root.mkdir()
    image = sorted((datasets_root / "asl-letters" / "train" / "images").iterdir())[0]
    shutil.copy(image, root)
    document = {
        "images": [{"id": 0, "file_name": image.name, "width": 416, "height": 416}],
        "annotations": [{"id": 0, "image_id": 0, "category_id": 0, "bbox": [10, 10, 50, 50]}],
        "categories": [{"id": 0, "name": "A"}],
    }
    return root, document
