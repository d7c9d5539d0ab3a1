"""What every dataset format shares: the registry, class names, groups, image headers.

A format is a class registered with `@register_format(name)` that can say whether a path
looks like its layout (`detect`) and turn that path into records (`read`). The importer
hands the records to `Dataset.create`, which writes the index in one transaction, so a
format only has to raise a narrow error (naming the file and line) to abort an import.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from fingerspell.data.image_header import header_size
from fingerspell.data.images import is_image_file
from fingerspell.data.index import Box, SampleRecord
from fingerspell.data.names import class_name, fold_class, safe_default_name
from fingerspell.data.safe_paths import contained
from fingerspell.errors import DatasetFormatError, FingerspellError

_REGISTRY: dict[str, "Format"] = {}

# File or folder names that say nothing about the dataset (used when choosing a default name).
_GENERIC_NAMES = {"train", "valid", "val", "validation", "test", "images", "labels", "data",
                  "_annotations", "annotations", "_annotations.coco", "dataset"}

# Folder / key names that mean a split, mapped to the index's split names.
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val",
               "validation": "val", "test": "test", "testing": "test"}


@dataclass
class FormatData:
    """What a format reader produces: enough for `Dataset.create`.

    `records` may be a generator; errors it raises abort the import with nothing written.
    `notes` collects things the user should hear about (skipped files ...); it is stored in
    the index's meta before the records are read, so readers fill it up front.
    """

    root: Path
    classes: list[str]
    records: Iterable[SampleRecord]
    default_name: str
    extra_meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Format:
    """Base class of a registered dataset format."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Lower runs first in auto-detection: specific layouts before generic ones.
    priority: ClassVar[int] = 50

    def detect(self, path: Path) -> str | None:
        """A short reason when `path` looks like this format, else None. Never raises."""
        raise NotImplementedError

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        """Read `path`. Raises DatasetFormatError / UnknownLabelError naming file and line."""
        raise NotImplementedError


def register_format(name: str):
    """Class decorator: register a `Format` subclass under `name` (e.g. "yolo")."""

    def decorate(cls: type[Format]) -> type[Format]:
        if name in _REGISTRY:
            raise ValueError(f"dataset format {name!r} is registered twice")
        cls.name = name
        _REGISTRY[name] = cls()
        return cls

    return decorate


def get_format(name: str) -> Format:
    """The format registered as `name`. Raises FingerspellError listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise FingerspellError(f"unknown dataset format {name!r}; known formats: {', '.join(list_formats())}") from None


def list_formats() -> list[str]:
    return sorted(_REGISTRY)


def detect_format(path: Path) -> tuple[str, str]:
    """(format name, reason) for the first format whose `detect` accepts `path`.

    Raises DatasetFormatError when the path is missing, empty, or matches no format."""
    path = Path(path)
    if not path.exists():
        raise DatasetFormatError(f"{path}: no such file or folder")
    if path.is_dir() and not any(path.iterdir()):
        raise DatasetFormatError(f"{path}: folder is empty, nothing to import")
    for fmt in sorted(_REGISTRY.values(), key=lambda f: (f.priority, f.name)):
        reason = fmt.detect(path)
        if reason:
            return fmt.name, reason
    raise DatasetFormatError(
        f"{path}: cannot tell the dataset format; pass --format one of {', '.join(list_formats())}"
    )


# ---- class names ------------------------------------------------------------------------------
def canonical_class(name: str) -> str:
    """Class names are case-insensitive: single letters upper-case (`a` -> `A`), digits as
    they are, words lower-case (`Del` -> `del`, `SPACE` -> `space`). Folding only: importers
    check a label with `fingerspell.data.names.class_name`, which folds too."""
    return fold_class(name)


def class_sort_key(name: str) -> tuple[int, str]:
    """Digits, then letters, then words (`0`..`9`, `A`..`Z`, `del`, `nothing`, `space`)."""
    if name.isdigit():
        return (0, name.zfill(8))
    if len(name) == 1 and name.isalpha():
        return (1, name)
    return (2, name)


def sort_classes(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=class_sort_key)


def split_from_name(name: str) -> str | None:
    """`train`/`val`/`test` when a file or folder name says which split it is."""
    lowered = name.lower()
    if lowered in SPLIT_NAMES:
        return SPLIT_NAMES[lowered]
    for word, split in (("train", "train"), ("test", "test"), ("valid", "val"), ("val", "val")):
        if re.search(rf"(^|[^a-z]){word}", lowered):
            return split
    return None


def default_name(path: Path) -> str:
    """A dataset name from a path: the first non-generic part of the file or folder names."""
    path = Path(path).resolve()
    candidates = [path] + list(path.parents)[:3]
    for part in candidates:
        stem = part.name
        for suffix in (".gz", ".csv", ".json", ".npz", ".yaml", ".yml", ".coco"):
            stem = stem.removesuffix(suffix)
        if stem and stem.lower() not in _GENERIC_NAMES:
            return safe_default_name(stem)
    return "dataset"


# ---- groups (signer / source photo) -----------------------------------------------------------
# Massey: `hand1_a_bot_seg_1_cropped.jpeg` -> `hand1`.
MASSEY_PATTERN = re.compile(r"^(hand\d+)_", re.IGNORECASE)
# Roboflow exports name augmented copies `<original stem>_<ext>.rf.<hash>.<ext>`; copies of one
# photo share the original stem (`A0_jpg.rf.292a...jpg` -> `A0`).
ROBOFLOW_PATTERN = re.compile(r"^(.+?)_(?:jpe?g|png|bmp|webp|tiff?)\.rf\.[0-9a-f]+\.[A-Za-z]+$", re.IGNORECASE)


class GroupNamer:
    """Turns a file name into its group (signer or source photo), or None.

    With a user `--group-pattern` (a regular expression searched in the file name; its first
    capture group, or the whole match, is the group) only that pattern is used."""

    def __init__(self, pattern: str | None = None):
        self.user = None
        if pattern:
            try:
                self.user = re.compile(pattern)
            except re.error as exc:
                raise FingerspellError(f"--group-pattern {pattern!r} is not a valid regular expression: {exc}") from None

    def __call__(self, file_name: str) -> str | None:
        if self.user is not None:
            match = self.user.search(file_name)
            if not match:
                return None
            return match.group(1) if self.user.groups else match.group(0)
        for pattern in (MASSEY_PATTERN, ROBOFLOW_PATTERN):
            match = pattern.match(file_name)
            if match:
                return match.group(1)
        return None


# ---- image files ------------------------------------------------------------------------------
def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of encoded image bytes, from the header when possible (cheap), else by
    decoding. None when the bytes are not a readable image (`data check` reports it; import
    keeps the sample so the problem stays visible). An image too large to decode safely keeps
    its header size here; reading its pixels later raises ImageTooLargeError."""
    size = header_size(data)
    if size is not None:
        return size
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_UNCHANGED) if array.size else None
    if image is None:
        return None
    return int(image.shape[1]), int(image.shape[0])


@dataclass
class ImageFacts:
    width: int | None
    height: int | None
    hash: str


def image_facts(path: Path) -> ImageFacts:
    """Size and sha256 of an image file. Raises DatasetFormatError if it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetFormatError(f"{path}: cannot read ({exc.strerror})") from None
    size = image_size(data)
    width, height = size if size else (None, None)
    return ImageFacts(width, height, hashlib.sha256(data).hexdigest())


def relative(path: Path, root: Path) -> str:
    """`path` relative to the dataset root, with forward slashes (indexes move between OSes).

    The stored path keeps a symbolic link's own name, but what it points at must lie inside
    the root too: a path that leaves the root (`../x.jpg` in an annotation, an absolute path,
    a link to /etc/passwd) raises UnsafePathError."""
    import os

    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    try:
        text = absolute.relative_to(base).as_posix()
    except ValueError:
        raise DatasetFormatError(f"{path}: outside the dataset folder {root}") from None
    contained(path, root)
    return text


def detect_files(path: Path, find: Callable[[Path], list[Path]], one: str, many: str) -> str | None:
    """A detect() for formats that are files of a kind: what `find(path)` found, described by
    `describe_found`, or None when it found nothing or the path cannot be read."""
    try:
        files = find(path)
    except OSError:
        return None
    return describe_found(path, files, one, many) if files else None


def describe_found(path: Path, files: list[Path], one: str, many: str) -> str:
    """`a.json, b/c.json are ...`: the files a format's detect() found, named relative to the
    imported folder (or by name when a single file was given), with the right verb."""
    names = ", ".join(f.relative_to(path).as_posix() if path.is_dir() else f.name for f in files)
    return f"{names} {many if len(files) > 1 else one}"


def progress(iterable: Iterable, total: int | None, desc: str):
    """A tqdm bar on a terminal, silent elsewhere (tests, pipes)."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="file", disable=None, leave=False)


# ---- images with boxes (YOLO, corners CSV, COCO) -------------------------------------------------
def find_image(folder: Path, name: str, where: str) -> Path | None:
    """An image named `name` in `folder` or its `images/` subfolder (Roboflow puts CSV and
    COCO annotations beside the images; some tools use an images/ folder).

    Raises DatasetFormatError naming `where` when the name is absolute or the file found is
    not an image (a `.bashrc` named in a CSV is not a sample)."""
    if not name or Path(name).is_absolute() or "\x00" in name:
        raise DatasetFormatError(f"{where}: image name {name!r} must be a path relative to {folder}")
    if not is_image_file(Path(name)):
        raise DatasetFormatError(f"{where}: {name!r} is not an image file (expected one of .jpg, .png, .bmp, .webp, .tif)")
    for candidate in (folder / name, folder / "images" / name):
        if candidate.is_file():
            return candidate
    return None


def image_label(boxes: list[Box]) -> str:
    """The label of an image with boxes: the most common box label (first one on a tie)."""
    counts: dict[str, int] = {}
    for box in boxes:
        counts[box.label] = counts.get(box.label, 0) + 1
    return max(counts, key=lambda label: (counts[label], -[b.label for b in boxes].index(label)))


def boxed_record(
    file: Path, root: Path, split: str | None, boxes: list[Box], facts: ImageFacts, group_of: GroupNamer,
    size: tuple[int | None, int | None] | None = None,
) -> SampleRecord:
    width, height = size if size and size[0] and size[1] else (facts.width, facts.height)
    return SampleRecord(
        source=relative(file, root), label=image_label(boxes), split=split, signer=group_of(file.name),
        width=width, height=height, boxes=boxes, hash=facts.hash,
    )


def single_split(records: list[SampleRecord]) -> list[SampleRecord]:
    """A download with one split only (Roboflow's `train/`) says nothing about how to split:
    leave it to `data split` (split NULL). Several splits are kept as they came."""
    if len({r.split for r in records}) <= 1:
        for record in records:
            record.split = None
    return records


def nearby_class_list(start: Path, levels: int = 2) -> tuple[list[str], Path] | None:
    """Class names from a `data.yaml` (`names`) or `_classes.txt`/`classes.txt` in `start` or
    up to `levels` folders above it (Roboflow puts data.yaml at the top of an export);
    None when there is none."""
    import yaml

    start = start.resolve()
    folders = [start] + list(start.parents)[:levels]
    for folder in folders:
        for name in ("data.yaml", "data.yml"):
            file = folder / name
            if file.is_file():
                try:
                    names = (yaml.safe_load(file.read_text()) or {}).get("names")
                except (yaml.YAMLError, OSError, AttributeError, UnicodeDecodeError):
                    continue
                if isinstance(names, dict):
                    names = [names[k] for k in sorted(names)]
                if isinstance(names, list) and names:
                    return [class_name(n, f"{file}: names[{i}]") for i, n in enumerate(names)], file
        for name in ("_classes.txt", "classes.txt"):
            file = folder / name
            if file.is_file():
                names = [line.strip() for line in file.read_text(errors="replace").splitlines() if line.strip()]
                if names:
                    return [class_name(n, f"{file}: class {i + 1}") for i, n in enumerate(names)], file
    return None
