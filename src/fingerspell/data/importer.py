"""`import_dataset`: read a dataset in any registered format into a new index.

The whole import is one transaction (`Dataset.create` builds a temporary file and renames it
into place), so a malformed row anywhere leaves no index behind and an existing index with
the same name untouched.
"""
from __future__ import annotations

import logging
from pathlib import Path

from fingerspell.data.formats import detect_format, get_format
from fingerspell.data.index import Dataset
from fingerspell.errors import DatasetFormatError

log = logging.getLogger(__name__)


def import_dataset(
    path: str | Path,
    format: str = "auto",
    name: str | None = None,
    group_pattern: str | None = None,
    replace: bool = False,
) -> Dataset:
    """Import the dataset at `path` and return its new index.

    `format="auto"` detects the layout; which format was chosen and why is kept in
    `ds.meta["detected"]` (and logged). `name` defaults to one taken from the path.
    `group_pattern` is a regular expression whose first group (searched in each file name)
    becomes the signer/group; by default Massey `hand<N>` and Roboflow source-photo names
    are recognised. Things the user should hear about (skipped files) are in
    `ds.meta["notes"]`.

    Raises DatasetFormatError / UnknownLabelError naming the file and line for bad input,
    DatasetExistsError when `name` exists and `replace` is false, FingerspellError for an
    unknown format.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetFormatError(f"{path}: no such file or folder")
    if format == "auto":
        format, reason = detect_format(path)
        detected = f"auto-detected {format}: {reason}"
        log.info(detected)
    else:
        detected = None
    fmt = get_format(format)
    data = fmt.read(path, group_pattern=group_pattern)
    dataset_name = name or data.default_name
    meta = {"source_path": str(path.resolve()), **data.extra_meta, "notes": list(data.notes)}
    if detected:
        meta["detected"] = detected
    if group_pattern:
        meta["group_pattern"] = group_pattern
    ds = Dataset.create(
        dataset_name, root=data.root, format=fmt.name, classes=data.classes, records=data.records,
        extra_meta=meta, replace=replace,
    )
    for note in data.notes:
        log.warning("%s: %s", dataset_name, note)
    return ds
