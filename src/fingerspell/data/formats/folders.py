"""One folder per class: `ROOT/<class>/<image>` (Kaggle ASL Alphabet, Massey).

The class comes from the folder name, case-insensitively (`a` -> `A`; digits and words such
as `del`, `nothing`, `space` stay classes). Wrapper folders with a single child
(`asl_alphabet_train/`, `asl_dataset/`) are looked through; split folders
(`train/`, `valid/`, `test/` each holding class folders) become splits. The signer (group)
comes from the file name: Massey's `hand<N>_...` by default, or `--group-pattern`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from fingerspell.data.formats.base import (
    SPLIT_NAMES,
    Format,
    FormatData,
    GroupNamer,
    default_name,
    image_facts,
    progress,
    register_format,
    relative,
    sort_classes,
)
from fingerspell.data.images import is_image_file
from fingerspell.data.index import SampleRecord
from fingerspell.data.names import class_name
from fingerspell.data.safe_paths import contained
from fingerspell.errors import DatasetFormatError


def _visible_dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _has_images(path: Path) -> bool:
    return any(is_image_file(p) for p in path.iterdir() if p.is_file())


def _class_parent(path: Path) -> Path | None:
    """The folder whose subfolders are the classes: look through single wrapper folders."""
    current = path
    for _ in range(4):
        dirs = _visible_dirs(current)
        if any(_has_images(d) for d in dirs):
            return current
        if len(dirs) != 1:
            return None
        current = dirs[0]
    return None


def _layout(path: Path) -> list[tuple[str | None, Path]]:
    """[(split or None, folder holding class folders)]."""
    dirs = _visible_dirs(path)
    split_dirs = [d for d in dirs if d.name.lower() in SPLIT_NAMES]
    if split_dirs and len(split_dirs) == len(dirs):
        parents = [(SPLIT_NAMES[d.name.lower()], _class_parent(d)) for d in split_dirs]
        found = [(s, p) for s, p in parents if p is not None]
        if found:
            return found
    parent = _class_parent(path)
    return [(None, parent)] if parent is not None else []


@register_format("folders")
class FoldersFormat(Format):
    description = "one folder per class: ROOT/<class>/<image> (Kaggle ASL Alphabet, Massey)"
    priority = 90  # the most generic layout: anything more specific wins

    def detect(self, path: Path) -> str | None:
        if not path.is_dir():
            return None
        try:
            layout = _layout(path)
        except OSError:
            return None
        if not layout:
            return None
        classes = {d.name for _, parent in layout for d in _visible_dirs(parent) if _has_images(d)}
        where = ", ".join(sorted({relative(p, path) or "." for _, p in layout}))
        return f"{len(classes)} class folders of images under {where}"

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        if not path.is_dir():
            raise DatasetFormatError(f"{path}: not a folder (the folders format wants ROOT/<class>/<image>)")
        group_of = GroupNamer(group_pattern)
        layout = _layout(path)
        files: list[tuple[str | None, str, Path]] = []
        skipped = 0
        for split, parent in layout:
            for class_dir in _visible_dirs(parent):
                contained(class_dir, path)  # a linked folder must not walk the disk outside
                label = class_name(class_dir.name, str(class_dir))
                images = 0
                for file in sorted(class_dir.rglob("*")):
                    if file.name.startswith("."):
                        continue
                    if file.is_symlink() and not file.exists():
                        raise DatasetFormatError(f"{file}: broken symbolic link (points at {os.readlink(file)!r})")
                    if not file.is_file():
                        continue
                    if is_image_file(file):
                        contained(file, path)
                        files.append((split, label, file))
                        images += 1
                    else:
                        skipped += 1
                if not images:
                    raise DatasetFormatError(f"{class_dir}: class folder {class_dir.name!r} holds no images")
        if not files:
            raise DatasetFormatError(
                f"{path}: no images in class folders (expected {path}/<class>/<image>.jpg)"
            )
        classes = sort_classes(label for _, label, _ in files)
        splits = {split for split, _, _ in files}
        data = FormatData(root=path, classes=classes, records=iter(()), default_name=default_name(path))
        if skipped:
            data.notes.append(f"skipped {skipped} file(s) that are not images")

        def records() -> Iterator[SampleRecord]:
            for split, label, file in progress(files, len(files), "reading images"):
                facts = image_facts(file)
                yield SampleRecord(
                    source=relative(file, path), label=label,
                    # A single split folder says nothing: leave it to `data split`.
                    split=split if len(splits) > 1 else None,
                    signer=group_of(file.name), width=facts.width, height=facts.height, hash=facts.hash,
                )

        data.records = records()
        return data
