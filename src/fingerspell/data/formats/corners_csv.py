"""Four-corner box CSV, one row per box, read by its header.

Both common column orders read: `filename,xmin,ymin,xmax,ymax,label` (Roboflow's
`_annotations.csv`) and `filename,width,height,class,xmin,ymin,xmax,ymax` (TensorFlow
object-detection CSV). Corners in pixels or normalised to 0-1 (a file whose corners are all
within 0-1 is normalised). Images are looked up beside the CSV (or in its `images/`). When a
`data.yaml` or `_classes.txt` sits next to or above the CSV its class list is enforced;
otherwise the classes are the labels found.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from fingerspell.data.formats.base import (
    Format,
    FormatData,
    GroupNamer,
    boxed_record,
    default_name,
    detect_files,
    find_image,
    image_facts,
    nearby_class_list,
    progress,
    register_format,
    single_split,
    sort_classes,
    split_from_name,
)
from fingerspell.data.images import MAX_IMAGE_SIDE
from fingerspell.data.index import Box, SampleRecord
from fingerspell.data.names import class_name
from fingerspell.errors import DatasetFormatError, UnknownLabelError

# Accepted header names for each column (compared lower-case, without `_`, `-` and spaces).
ALIASES = {
    "filename": ("filename", "file", "image", "imagename", "imagefile", "path", "imagepath", "filepath"),
    "label": ("label", "class", "classname", "name", "category", "letter"),
    "xmin": ("xmin", "x1", "left"),
    "ymin": ("ymin", "y1", "top"),
    "xmax": ("xmax", "x2", "right"),
    "ymax": ("ymax", "y2", "bottom"),
    "width": ("width", "imagewidth", "w"),
    "height": ("height", "imageheight", "h"),
}
REQUIRED = ("filename", "label", "xmin", "ymin", "xmax", "ymax")


def _columns(header: list[str]) -> dict[str, int] | None:
    """Column index of each known field, or None when a required one is missing."""
    keys = [h.strip().lower().replace("_", "").replace("-", "").replace(" ", "") for h in header]
    found: dict[str, int] = {}
    for field, names in ALIASES.items():
        for i, key in enumerate(keys):
            if key in names:
                found[field] = i
                break
    return found if all(f in found for f in REQUIRED) else None


def _header(file: Path) -> list[str]:
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _is_annotation_csv(file: Path) -> bool:
    return file.is_file() and file.suffix.lower() == ".csv" and _columns(_header(file)) is not None


def _csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if _is_annotation_csv(path) else []
    found = [f for f in sorted(path.glob("*.csv")) + sorted(path.glob("*/*.csv")) if _is_annotation_csv(f)]
    return found


@dataclass
class _Row:
    line: int
    filename: str
    label: str
    corners: tuple[float, float, float, float]
    size: tuple[int | None, int | None]


@register_format("corners-csv")
class CornersCsvFormat(Format):
    description = "box CSV, one row a box: filename,xmin,ymin,xmax,ymax,label (or filename,width,height,class,...)"
    priority = 30

    def detect(self, path: Path) -> str | None:
        return detect_files(path, _csv_files, "has a filename/corners/label header",
                            "have a filename/corners/label header")

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        if not path.exists():
            raise DatasetFormatError(f"{path}: no such file or folder")
        files = _csv_files(path)
        if not files:
            raise DatasetFormatError(
                f"{path}: no CSV with a header naming filename, xmin, ymin, xmax, ymax and label/class"
            )
        root = path if path.is_dir() else path.parent
        known = nearby_class_list(files[0].parent)
        class_list = known[0] if known else None
        group_of = GroupNamer(group_pattern)
        records: list[SampleRecord] = []
        for file in files:
            rows = _read_rows(file)
            if class_list is not None:
                for row in rows:
                    if row.label not in class_list:
                        raise UnknownLabelError(
                            f"{file}:{row.line}: label {row.label!r} is not in the class list of {known[1].name}"
                            f" ({', '.join(class_list)})"
                        )
            normalised = all(0.0 <= v <= 1.0 for row in rows for v in row.corners)
            split = split_from_name(file.parent.name) or split_from_name(file.stem)
            by_image: dict[str, list[_Row]] = {}
            for row in rows:
                by_image.setdefault(row.filename, []).append(row)
            for filename, image_rows in progress(by_image.items(), len(by_image), f"reading {file.name}"):
                image = find_image(file.parent, filename, f"{file}:{image_rows[0].line}")
                if image is None:
                    raise DatasetFormatError(
                        f"{file}:{image_rows[0].line}: image {filename!r} not found in {file.parent}"
                    )
                facts = image_facts(image)
                declared = image_rows[0].size
                width, height = (declared if declared[0] and declared[1] else (facts.width, facts.height))
                boxes = []
                for row in image_rows:
                    xmin, ymin, xmax, ymax = row.corners
                    if normalised:
                        if not (width and height):
                            raise DatasetFormatError(
                                f"{file}:{row.line}: normalised corners but the size of {filename!r} is unknown"
                            )
                        xmin, xmax, ymin, ymax = xmin * width, xmax * width, ymin * height, ymax * height
                    boxes.append(Box(xmin, ymin, xmax, ymax, row.label))
                records.append(boxed_record(image, root, split, boxes, facts, group_of, size=(width, height)))
        records.sort(key=lambda r: r.source)
        single_split(records)
        classes = class_list if class_list is not None else sort_classes(b.label for r in records for b in r.boxes)
        return FormatData(
            root=root, classes=classes, records=iter(records), default_name=default_name(path),
            extra_meta={"annotation_files": [f.relative_to(root).as_posix() for f in files]},
        )


def _read_rows(file: Path) -> list[_Row]:
    """Every row of an annotation CSV, validated. Raises DatasetFormatError naming file:line."""
    try:
        handle = file.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetFormatError(f"{file}: cannot read ({exc.strerror})") from None
    rows: list[_Row] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
            columns = _columns(header)
            if columns is None:
                raise DatasetFormatError(
                    f"{file}:1: header {','.join(header)!r} lacks filename, xmin, ymin, xmax, ymax or label"
                )
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise DatasetFormatError(f"{file}:{line}: row has {len(fields)} fields, header has {len(header)}")
                filename = fields[columns["filename"]].strip()
                if not filename:
                    raise DatasetFormatError(f"{file}:{line}: empty filename")
                if not fields[columns["label"]].strip():
                    raise DatasetFormatError(f"{file}:{line}: empty label")
                label = class_name(fields[columns["label"]], f"{file}:{line}")
                corners = tuple(_number(fields[columns[k]], k, file, line) for k in ("xmin", "ymin", "xmax", "ymax"))
                size = tuple(
                    _side(fields[columns[k]], k, file, line) if k in columns else None for k in ("width", "height")
                )
                rows.append(_Row(line, filename, label, corners, size))  # type: ignore[arg-type]
        except csv.Error as exc:
            raise DatasetFormatError(f"{file}:{reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise DatasetFormatError(f"{file}:{reader.line_num + 1}: not UTF-8 text") from None
    if not rows:
        raise DatasetFormatError(f"{file}: no annotation rows after the header")
    return rows


def _side(text: str, column: str, file: Path, line: int) -> int:
    """A declared image width or height: a whole number of pixels, 0 for unknown."""
    value = _number(text, column, file, line)
    if value != int(value) or not 0 <= value <= MAX_IMAGE_SIDE:
        raise DatasetFormatError(f"{file}:{line}: {column} = {text.strip()[:20]!r} is not a pixel count 0-{MAX_IMAGE_SIDE}")
    return int(value)


def _number(text: str, column: str, file: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatasetFormatError(f"{file}:{line}: {column} = {text.strip()[:20]!r} is not a number") from None
    if not math.isfinite(value):
        raise DatasetFormatError(f"{file}:{line}: {column} = {text.strip()[:20]!r} is not a finite number")
    return value
