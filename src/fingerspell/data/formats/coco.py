"""COCO JSON: `images`, `annotations` (bbox `[x, y, w, h]` in pixels) and `categories`.

A path can be one JSON file or a folder holding one per split (Roboflow's
`train/_annotations.coco.json` beside the images). Roboflow adds a category that only
serves as the others' `supercategory` and has no annotations; it is not a class.
JSON has no useful line numbers, so errors name the file and the annotation or image id.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fingerspell.data.formats.base import (
    Format,
    FormatData,
    GroupNamer,
    boxed_record,
    default_name,
    detect_files,
    find_image,
    image_facts,
    progress,
    register_format,
    single_split,
    sort_classes,
    split_from_name,
)
from fingerspell.data.images import MAX_IMAGE_SIDE
from fingerspell.data.index import Box, SampleRecord
from fingerspell.data.names import class_name, fold_class
from fingerspell.errors import DatasetFormatError, UnknownLabelError


def _load(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{file}: cannot read ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise DatasetFormatError(f"{file}: a COCO file needs `images`, `annotations` and `categories` lists")
    return data


def _is_coco(file: Path) -> bool:
    if not (file.is_file() and file.suffix.lower() == ".json"):
        return False
    try:
        with file.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    # Cheap sniff before parsing: the three COCO keys (Roboflow writes `info` first).
    return b'"images"' in head or b'"categories"' in head or b'"annotations"' in head


def _json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if _is_coco(path) else []
    return [f for f in sorted(path.glob("*.json")) + sorted(path.glob("*/*.json")) if _is_coco(f)]


@register_format("coco")
class CocoFormat(Format):
    description = "COCO JSON: images, annotations (bbox x,y,w,h pixels), categories"
    priority = 25

    def detect(self, path: Path) -> str | None:
        return detect_files(path, _json_files, "is COCO JSON", "are COCO JSON")

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        files = _json_files(path) if path.exists() else []
        if not files:
            raise DatasetFormatError(f"{path}: no COCO JSON file (with images, annotations, categories)")
        root = path if path.is_dir() else path.parent
        group_of = GroupNamer(group_pattern)
        loaded = [(f, _load(f)) for f in files]
        classes = _classes(loaded)
        records: list[SampleRecord] = []
        skipped = 0
        for file, data in loaded:
            categories = {_key(c.get("id")): class_name(c.get("name", ""), f"{file}: category {_shown(c.get('id'))}")
                          for c in data["categories"] if isinstance(c, dict)}
            images = {}
            for image in data["images"]:
                if not isinstance(image, dict) or "id" not in image or not image.get("file_name"):
                    raise DatasetFormatError(f"{file}: an entry in `images` lacks id or file_name: {str(image)[:80]!r}")
                if not isinstance(image["file_name"], str):
                    raise DatasetFormatError(f"{file}: image {_shown(image['id'])}: file_name must be a string")
                images[_key(image["id"])] = image
            boxes: dict[Any, list[Box]] = {}
            for ann in data["annotations"]:
                ann_id = _shown(ann.get("id", "?")) if isinstance(ann, dict) else "?"
                where = f"{file}: annotation {ann_id}"
                image_id = _key(ann.get("image_id")) if isinstance(ann, dict) else None
                if image_id not in images:
                    raise DatasetFormatError(f"{where} names image id "
                                             f"{_shown(ann.get('image_id')) if isinstance(ann, dict) else '?'}, "
                                             "which is not in `images`")
                label = categories.get(_key(ann.get("category_id")))
                if label is None or label not in classes:
                    raise UnknownLabelError(f"{where}: category id {_shown(ann.get('category_id'))} is not in `categories`")
                bbox = ann.get("bbox")
                if (not isinstance(bbox, list) or len(bbox) != 4
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                                   and abs(v) < 1e9 for v in bbox)):
                    raise DatasetFormatError(f"{where}: bbox must be 4 numbers [x, y, width, height], got {str(bbox)[:80]!r}")
                x, y, w, h = (float(v) for v in bbox)
                boxes.setdefault(image_id, []).append(Box(x, y, x + w, y + h, label))
            split = split_from_name(file.parent.name) or split_from_name(file.stem)
            for image_id, image in progress(images.items(), len(images), f"reading {file.name}"):
                where = f"{file}: image {_shown(image['id'])}"
                file_path = find_image(file.parent, image["file_name"], where)
                if file_path is None:
                    raise DatasetFormatError(f"{where}: {image['file_name'][:80]!r} not found in {file.parent}")
                if image_id not in boxes:
                    skipped += 1
                    continue
                facts = image_facts(file_path)
                size = (image.get("width"), image.get("height"))
                size = size if all(type(v) is int and 0 < v <= MAX_IMAGE_SIDE for v in size) else None
                records.append(boxed_record(file_path, root, split, boxes[image_id], facts, group_of, size=size))
        if not records:
            raise DatasetFormatError(f"{path}: no image has an annotation")
        records.sort(key=lambda r: r.source)
        single_split(records)
        notes = [f"skipped {skipped} image(s) without annotations (no class to give them)"] if skipped else []
        return FormatData(
            root=root, classes=classes, records=iter(records), default_name=default_name(path),
            extra_meta={"annotation_files": [f.relative_to(root).as_posix() for f in files]}, notes=notes,
        )


def _classes(loaded: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    used: set[Any] = set()
    supers: set[str] = set()
    names: list[str] = []
    for _, data in loaded:
        used |= {(id(data), _key(a.get("category_id"))) for a in data["annotations"] if isinstance(a, dict)}
        supers |= {fold_class(c.get("supercategory")) for c in data["categories"]
                   if isinstance(c, dict) and c.get("supercategory") and c.get("supercategory") != c.get("name")}
    for file, data in loaded:
        for c in data["categories"]:
            if not isinstance(c, dict) or "name" not in c:
                raise DatasetFormatError(f"{file}: a category lacks a name: {str(c)[:80]}")
            # Roboflow's umbrella category ("letters") is only a supercategory, never used.
            if fold_class(c["name"]) in supers and (id(data), _key(c.get("id"))) not in used:
                continue
            names.append(class_name(c["name"], f"{file}: category {_shown(c.get('id'))}"))
    return sort_classes(names)


def _key(value: Any) -> Any:
    """An id as a dict key: JSON lists and objects (`"image_id": [0]`) are not hashable, so they
    become their JSON text, which matches no real id (the caller then names the bad id)."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def _shown(value: Any) -> str:
    """An id for a message: one line, at most 40 characters."""
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
