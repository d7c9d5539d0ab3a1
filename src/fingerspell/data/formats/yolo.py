"""YOLO: `data.yaml` (class `names`, split folders) + `images/` + `labels/`.

Each `labels/<stem>.txt` line is `class cx cy w h`, normalised to the image size (a line with
more numbers is a segmentation polygon: its bounding box is used). Boxes are stored in
pixels, so each image's size is read from its header. A label file without its image, a
class id outside `names`, or a malformed line stops the import with the file and line.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from fingerspell.data.formats.base import (
    SPLIT_NAMES,
    Format,
    FormatData,
    GroupNamer,
    boxed_record,
    default_name,
    image_facts,
    progress,
    register_format,
    single_split,
)
from fingerspell.data.images import is_image_file
from fingerspell.data.index import Box, SampleRecord
from fingerspell.data.names import class_name
from fingerspell.data.safe_paths import contained, is_inside
from fingerspell.errors import DatasetFormatError, UnknownLabelError, UnsafePathError

_TOLERANCE = 0.01  # exporters round; anything further outside 0-1 is not normalised


def _yaml_file(path: Path) -> Path | None:
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        return path
    if path.is_dir():
        for name in ("data.yaml", "data.yml"):
            if (path / name).is_file():
                return path / name
    return None


def _load_yaml(file: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DatasetFormatError(f"{file}{f':{line + 1}' if line is not None else ''}: not valid YAML") from None
    except UnicodeDecodeError:
        raise DatasetFormatError(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise DatasetFormatError(f"{file}: cannot read ({exc.strerror})") from None
    if not isinstance(config, dict):
        raise DatasetFormatError(f"{file}: expected a mapping with `names` and split folders")
    return config


def _names(config: dict[str, Any], file: Path) -> list[str]:
    names = config.get("names")
    if isinstance(names, dict):
        try:
            names = [names[k] for k in sorted(names, key=int)]
        except (TypeError, ValueError):
            raise DatasetFormatError(f"{file}: `names` keys must be class ids 0, 1, ...") from None
    if not isinstance(names, list) or not names:
        raise DatasetFormatError(f"{file}: no `names` list of classes")
    if "nc" in config and config["nc"] != len(names):
        raise DatasetFormatError(f"{file}: nc is {config['nc']} but `names` lists {len(names)} classes")
    return [class_name(n, f"{file}: names[{i}]") for i, n in enumerate(names)]


def _images_dir(base: Path, value: str, where: str) -> Path | None:
    """The split folder `value` names, relative to `base`; it must stay inside `base`.

    Raises UnsafePathError for an absolute path or one that leads out of `base` (`/etc`)."""
    if Path(value).is_absolute() or "\x00" in value:
        raise UnsafePathError(f"{where}: folder {value!r} must be relative to the dataset folder {base}")
    candidate = base / value
    if candidate.is_dir() and is_inside(candidate, base):
        return candidate
    # Roboflow writes `../train/images` relative to a folder above data.yaml; try it here too.
    stripped = value
    while stripped.startswith("../"):
        stripped = stripped[3:]
        if (base / stripped).is_dir() and is_inside(base / stripped, base):
            return base / stripped
    if candidate.exists():
        raise UnsafePathError(f"{where}: folder {value!r} leads outside the dataset folder {base}")
    return None


def _labels_dir(images: Path) -> Path:
    parts = list(images.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts)
    return images  # labels next to the images


@register_format("yolo")
class YoloFormat(Format):
    description = "YOLO: data.yaml (names, split folders) + images/ + labels/ (class cx cy w h, normalised)"
    priority = 20

    def detect(self, path: Path) -> str | None:
        file = _yaml_file(path)
        if file is None:
            return None
        try:
            config = yaml.safe_load(file.read_text())
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            return None
        if isinstance(config, dict) and config.get("names") and any(k in config for k in ("train", "val", "test")):
            return f"{file.name} lists class names and split folders"
        return None

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        file = _yaml_file(path)
        if file is None:
            raise DatasetFormatError(f"{path}: no data.yaml (the YOLO format needs one with `names`)")
        config = _load_yaml(file)
        classes = _names(config, file)
        if len(set(classes)) != len(classes):
            raise DatasetFormatError(f"{file}: `names` lists a class twice")
        # Ultralytics' optional `path:` is the dataset root the split folders are relative to.
        root = file.parent
        if isinstance(config.get("path"), str) and config["path"].strip() and (file.parent / config["path"]).is_dir():
            # Kept inside the folder of data.yaml: `path: /` must not make the import walk /etc.
            if Path(config["path"]).is_absolute() or not is_inside(file.parent / config["path"], file.parent):
                raise UnsafePathError(f"{file}: path {config['path']!r} leads outside the dataset folder {file.parent}")
            root = file.parent / config["path"]
        base = root
        group_of = GroupNamer(group_pattern)
        notes: list[str] = []
        splits: list[tuple[str, Path]] = []
        for key in ("train", "val", "test"):
            values = config.get(key)
            for value in values if isinstance(values, list) else [values] if values else []:
                folder = _images_dir(base, str(value), f"{file}: {key}")
                if folder is None:
                    notes.append(f"{file.name}: {key} folder {value!r} not found, skipped")
                else:
                    splits.append((SPLIT_NAMES[key], folder))
        if not splits:
            raise DatasetFormatError(f"{file}: none of the train/val/test folders it names exist")

        records: list[SampleRecord] = []
        unboxed, unsized = 0, 0
        for split, images in splits:
            labels = _labels_dir(images)
            image_files = sorted(contained(p, root) for p in images.rglob("*") if p.is_file() and is_image_file(p))
            by_stem = {p.relative_to(images).with_suffix("").as_posix(): p for p in image_files}
            label_files = sorted(labels.rglob("*.txt")) if labels.is_dir() else []
            for label_file in label_files:
                stem = label_file.relative_to(labels).with_suffix("").as_posix()
                if stem not in by_stem and label_file.stat().st_size > 0:
                    raise DatasetFormatError(
                        f"{label_file}: annotation for image {stem!r}, which is not in {images}"
                    )
            if not image_files:
                raise DatasetFormatError(f"{images}: no images in this {split} folder")
            for stem, image in progress(by_stem.items(), len(by_stem), f"reading {split} images"):
                facts = image_facts(image)
                label_file = labels / f"{stem}.txt"
                lines = _label_lines(contained(label_file, root)) if label_file.is_file() else []
                if not any(line.strip() for line in lines):
                    unboxed += 1
                    continue
                sized = bool(facts.width and facts.height)
                boxes = [
                    _parse_line(line, label_file, number, classes, facts.width or 0, facts.height or 0)
                    for number, line in enumerate(lines, 1) if line.strip()
                ]
                record = boxed_record(image, root, split, boxes, facts, group_of)
                if not sized:
                    # Cannot turn normalised boxes into pixels; `data check` reports the image.
                    unsized += 1
                    record.boxes = []
                records.append(record)
        if not records:
            raise DatasetFormatError(f"{file}: no image has a box in its label file")
        if unboxed:
            notes.append(f"skipped {unboxed} image(s) without boxes (no class to give them)")
        if unsized:
            notes.append(f"{unsized} image(s) could not be decoded, kept without boxes (run `data check`)")
        single_split(records)
        return FormatData(
            root=root, classes=classes, records=iter(records), default_name=default_name(root),
            extra_meta={"yaml": file.name, "class_order": "data.yaml"}, notes=notes,
        )


def _label_lines(file: Path) -> list[str]:
    try:
        return file.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise DatasetFormatError(f"{file}: cannot read ({exc.strerror})") from None


def _parse_line(line: str, file: Path, number: int, classes: list[str], width: int, height: int) -> Box:
    fields = line.split()
    where = f"{file}:{number}"
    if len(fields) < 5 or (len(fields) > 5 and len(fields) % 2 == 0):
        raise DatasetFormatError(f"{where}: expected `class cx cy w h` (5 numbers), got {len(fields)} fields")
    try:
        class_id = int(fields[0])
    except ValueError:
        raise DatasetFormatError(f"{where}: class id {fields[0]!r} is not an integer") from None
    if not 0 <= class_id < len(classes):
        raise UnknownLabelError(f"{where}: class id {class_id} is not in data.yaml names (0-{len(classes) - 1})")
    try:
        values = [float(v) for v in fields[1:]]
    except ValueError:
        bad = next(v for v in fields[1:] if not _is_float(v))
        raise DatasetFormatError(f"{where}: {bad!r} is not a number") from None
    if not all(math.isfinite(v) and -_TOLERANCE <= v <= 1 + _TOLERANCE for v in values):
        raise DatasetFormatError(f"{where}: coordinates must be normalised to 0-1, got {' '.join(fields[1:])}")
    if len(values) == 4:
        cx, cy, w, h = values
        xmin, ymin, xmax, ymax = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    else:  # polygon x1 y1 x2 y2 ...: its bounding box
        xs, ys = values[0::2], values[1::2]
        xmin, ymin, xmax, ymax = min(xs), min(ys), max(xs), max(ys)
    return Box(xmin * width, ymin * height, xmax * width, ymax * height, classes[class_id])


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

