"""Sign Language MNIST: `label,pixel1,...,pixel784`, one 28x28 greyscale image a row.

Labels 0-25 map to A-Z; J (9) and Z (25) need motion and are absent, so the classes are the
24 other letters. Every row is validated (785 integer fields, pixels 0-255, a known label)
and an error names the file and its 1-based line (the header is line 1). Parsing is done a
block of rows at a time in C (`bytes.translate`, `np.fromstring`) so the 34,627 rows of the
Kaggle files import in a few seconds; Python only touches rows to count their fields.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fingerspell.data.formats.base import Format, FormatData, default_name, register_format, split_from_name
from fingerspell.data.index import SampleRecord
from fingerspell.data.safe_paths import contained
from fingerspell.errors import DatasetFormatError, UnknownLabelError

SIDE = 28
FIELDS = SIDE * SIDE + 1
LETTERS = [chr(ord("A") + i) for i in range(26)]
ABSENT = {9: "J", 25: "Z"}  # need motion: not in Sign-MNIST
CLASSES = [letter for i, letter in enumerate(LETTERS) if i not in ABSENT]
_BLOCK = 4096  # rows parsed per np.fromstring call: bounds memory, keeps speed
_DIGITS_AND_COMMAS = b"0123456789,"


def _is_csv(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".csv") or name.endswith(".csv.gz")


def _first_line(path: Path) -> bytes:
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as handle:
            return handle.readline(64 * 1024)
    except (OSError, EOFError, zlib.error):
        return b""


def _looks_like_sign_mnist(path: Path) -> bool:
    return _is_csv(path) and _first_line(path).lower().startswith(b"label,pixel1,")


def _csv_files(folder: Path) -> list[Path]:
    """Sign-MNIST CSVs in `folder`, else in its subfolders. The Kaggle archive holds each CSV
    twice (`sign_mnist_train.csv` and `sign_mnist_train/sign_mnist_train.csv`): taking the
    top level when it has any keeps the copies out."""
    top = [p for p in sorted(folder.iterdir()) if p.is_file() and _looks_like_sign_mnist(p)]
    if top:
        return top
    return [p for p in sorted(folder.glob("*/*")) if p.is_file() and _looks_like_sign_mnist(p)]


@register_format("sign-mnist")
class SignMnistFormat(Format):
    description = "Sign Language MNIST CSV (.csv or .csv.gz): label,pixel1..pixel784"
    priority = 10

    def detect(self, path: Path) -> str | None:
        if path.is_file() and _looks_like_sign_mnist(path):
            return f"{path.name} has the Sign-MNIST header label,pixel1,...,pixel784"
        if path.is_dir():
            found = [p.relative_to(path).as_posix() for p in _csv_files(path)]
            if found:
                return f"{', '.join(found)} {'have' if len(found) > 1 else 'has'} the Sign-MNIST header"
        return None

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        if path.is_dir():
            root = path
            files = [contained(f, root) for f in _csv_files(path)]
            if not files:
                raise DatasetFormatError(f"{path}: no .csv or .csv.gz file with the header label,pixel1,...,pixel784")
        elif path.is_file():
            root, files = path.parent, [path]
        else:
            raise DatasetFormatError(f"{path}: no such file or folder")
        # Train first, then test, then anything else: ids follow the order people expect.
        order = {"train": 0, "val": 1, "test": 2}
        files.sort(key=lambda p: (order.get(split_from_name(p.name) or "", 3), p.name))
        parsed = [(f, *read_pixel_csv(f)) for f in files]  # validate everything before writing

        def records() -> Iterator[SampleRecord]:
            for file, labels, pixels, lines in parsed:
                source = file.relative_to(root).as_posix()
                split = split_from_name(file.name)
                blob = pixels.tobytes()
                size = SIDE * SIDE
                for i in range(len(labels)):
                    chunk = blob[i * size:(i + 1) * size]
                    yield SampleRecord(
                        source=source, label=LETTERS[labels[i]], row=int(lines[i]), split=split,
                        width=SIDE, height=SIDE, hash=hashlib.sha256(chunk).hexdigest(), pixels=chunk,
                    )

        return FormatData(
            root=root, classes=list(CLASSES), records=records(), default_name=default_name(path),
            extra_meta={"files": [f.relative_to(root).as_posix() for f in files]},
        )


def read_pixel_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels int [N], pixels uint8 [N, 784], line numbers [N]) of a Sign-MNIST CSV.

    Raises DatasetFormatError naming `file:line` for a short or long row, a non-integer or
    out-of-range value, and UnknownLabelError for a label that is not a Sign-MNIST letter."""
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except OSError as exc:
        raise DatasetFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetFormatError(f"{path}: not a valid gzip file ({exc})") from None
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = raw.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DatasetFormatError(f"{path}: file is empty")
    header = lines[0].strip()
    first_field = header.split(b",", 1)[0].strip()
    start = 0 if first_field.isdigit() else 1  # a file without a header starts with data
    if start and header.count(b",") != FIELDS - 1:
        raise DatasetFormatError(
            f"{path}:1: header has {header.count(b',') + 1} columns, expected {FIELDS} (label + 784 pixels)"
        )
    body = lines[start:]
    if not body:
        raise DatasetFormatError(f"{path}: no data rows after the header")

    labels = np.empty(len(body), dtype=np.int64)
    pixels = np.empty((len(body), SIDE * SIDE), dtype=np.uint8)
    for begin in range(0, len(body), _BLOCK):
        block = body[begin:begin + _BLOCK]
        first_line = begin + start + 1  # 1-based line number of block[0]
        joined = b",".join(block)
        # Fast checks in C; on failure find the offending row in Python for the message.
        if joined.translate(None, _DIGITS_AND_COMMAS) or b",," in joined or joined.startswith(b",") or joined.endswith(b","):
            _raise_bad_value(path, block, first_line)
        counts = [line.count(b",") for line in block]
        if min(counts) != FIELDS - 1 or max(counts) != FIELDS - 1:
            k = next(i for i, c in enumerate(counts) if c != FIELDS - 1)
            raise DatasetFormatError(
                f"{path}:{first_line + k}: row has {counts[k] + 1} fields, expected {FIELDS} (label + 784 pixels)"
            )
        # Digits and commas only: int64 parsing cannot fail; a huge number saturates and
        # fails the 0-255 check below.
        values = np.fromstring(joined, dtype=np.int64, sep=",")
        if values.size != len(block) * FIELDS:  # cannot happen after the checks above; be safe
            _raise_bad_value(path, block, first_line)
        values = values.reshape(len(block), FIELDS)
        bad_rows = np.flatnonzero((values[:, 1:] > 255).any(axis=1))
        if bad_rows.size:
            k = int(bad_rows[0])
            col = int(np.flatnonzero(values[k, 1:] > 255)[0])
            raise DatasetFormatError(
                f"{path}:{first_line + k}: pixel{col + 1} = {values[k, col + 1]} is outside 0-255"
            )
        block_labels = values[:, 0]
        bad_labels = np.flatnonzero((block_labels > 25) | np.isin(block_labels, list(ABSENT)))
        if bad_labels.size:
            k = int(bad_labels[0])
            label = int(block_labels[k])
            why = f"is {ABSENT[label]}, which Sign-MNIST leaves out" if label in ABSENT else "is outside 0-25"
            raise UnknownLabelError(f"{path}:{first_line + k}: label {label} {why}")
        labels[begin:begin + len(block)] = block_labels
        pixels[begin:begin + len(block)] = values[:, 1:]
    line_numbers = np.arange(start + 1, start + 1 + len(body), dtype=np.int64)
    return labels, pixels, line_numbers


def _raise_bad_value(path: Path, block: list[bytes], first_line: int) -> None:
    for k, line in enumerate(block):
        if not line.strip():
            raise DatasetFormatError(f"{path}:{first_line + k}: empty row")
        fields = line.split(b",")
        for col, text in enumerate(fields):
            if text.isdigit() and len(text) > 3:
                what = "label" if col == 0 else f"pixel{col}"
                raise DatasetFormatError(f"{path}:{first_line + k}: {what} = {text.decode()[:20]} is outside 0-255")
            if not text.strip().isdigit() or text != text.strip():
                what = "label" if col == 0 else f"pixel{col}"
                shown = text.decode("utf-8", "replace")[:20]
                raise DatasetFormatError(
                    f"{path}:{first_line + k}: {what} = {shown!r} is not an integer 0-255"
                    + (f" (row has {len(fields)} fields)" if len(fields) != FIELDS else "")
                )
    raise DatasetFormatError(f"{path}:{first_line}: malformed row")
