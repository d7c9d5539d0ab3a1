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
from fingerspell.data.names import dataset_name
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
    DatasetExistsError when `name` exists and `replace` is false, InvalidNameError for a
    name that is not 1-64 letters, digits, '-' and '_', UnsafePathError when a file the
    dataset names (a symbolic link included) lies outside its folder, FingerspellError for
    an unknown format.
    """
    if name is not None:
        dataset_name(name)  # a bad --name fails before any file is read
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
    # `name=""` is a bad name, not "use the default": only None means that.
    chosen = dataset_name(name if name is not None else data.default_name)
    meta = {"source_path": str(path.resolve()), **data.extra_meta, "notes": list(data.notes)}
    if detected:
        meta["detected"] = detected
    if group_pattern:
        meta["group_pattern"] = group_pattern
    ds = Dataset.create(
        chosen, root=data.root, format=fmt.name, classes=data.classes, records=data.records,
        extra_meta=meta, replace=replace,
    )
    for note in data.notes:
        log.warning("%s: %s", chosen, note)
    return ds
