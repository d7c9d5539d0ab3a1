"""What a class (label) name and a dataset name may be: the one place that decides.

Labels become folder names on export (`OUT/<label>/...`) and dataset names become file names
(`FINGERSPELL_HOME/datasets/<name>.sqlite`), so both are checked as the path parts they will be:
no separators, no `..`, no control characters, nothing a file system treats specially. Every
importer passes its labels through `class_name` (with the file and row, for the message), and
`Dataset.create` checks them again, so no importer can let a bad one through.
"""
from __future__ import annotations

import re

from fingerspell.errors import DatasetFormatError, InvalidNameError

MAX_CLASS_NAME = 64
MAX_DATASET_NAME = 64

# Letters and digits of any script, `_`, `-`, `+`, `'`, `.` and single inner spaces
# ("thumbs up"); the first and last character must be a letter, a digit or `_`.
_CLASS_RE = re.compile(r"^[\w](?:[\w+' .-]*[\w])?$")
_DATASET_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
# Device names Windows refuses as a file or folder name (with any extension).
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def fold_class(text: object) -> str:
    """Case-fold a class name: single letters upper-case (`a` -> `A`), digits as they are,
    words lower-case (`Del` -> `del`). No validation (see `class_name`)."""
    name = str(text).strip()
    if len(name) == 1 and name.isalpha():
        return name.upper()
    return name if name.isdigit() else name.lower()


def class_name_problem(name: str) -> str | None:
    """Why `name` (already folded) cannot be a class name, or None when it can."""
    if not isinstance(name, str) or not name:
        return "is empty"
    if any(ch in name for ch in "/\\"):
        return "contains a path separator"
    if ".." in name:
        return "contains '..'"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "contains a control character"
    if len(name) > MAX_CLASS_NAME:
        return f"is {len(name)} characters long (at most {MAX_CLASS_NAME})"
    if not _CLASS_RE.match(name) or "  " in name:
        return "may only hold letters, digits, single spaces and _ - + ' . (starting and ending with a letter or digit)"
    if name.split(".")[0].lower() in _WINDOWS_RESERVED:
        return "is a device name on Windows"
    return None


def class_name(text: object, where: str) -> str:
    """`text` case-folded and checked as a class name.

    Raises DatasetFormatError `"<where>: class name '...' <problem>"` (where = file and row).
    """
    name = fold_class(text)
    problem = class_name_problem(name)
    if problem:
        raise DatasetFormatError(f"{where}: class name {_shown(text)} {problem}")
    return name


def dataset_name(name: object) -> str:
    """`name` checked as a dataset name: 1-64 ASCII letters, digits, `-` and `_`, not starting
    with `-`. Raises InvalidNameError saying so."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError("invalid dataset name '': a name needs 1 to 64 letters, digits, '-' and '_'")
    if len(name) > MAX_DATASET_NAME:
        raise InvalidNameError(f"invalid dataset name {_shown(name)}: {len(name)} characters long (at most {MAX_DATASET_NAME})")
    if not _DATASET_RE.match(name):
        raise InvalidNameError(f"invalid dataset name {_shown(name)}: use only letters, digits, '-' and '_'"
                               " (not starting with '-')")
    if name.lower() in _WINDOWS_RESERVED:
        raise InvalidNameError(f"invalid dataset name {_shown(name)}: a device name on Windows")
    return name


def safe_default_name(text: str) -> str:
    """A valid dataset name made from any text (a folder name): other characters become `-`."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:MAX_DATASET_NAME].strip("-")
    if not name or name.lower() in _WINDOWS_RESERVED:
        return "dataset"
    return name


def _shown(text: object) -> str:
    """The name as a one-line quoted string (repr escapes newlines), shortened when long."""
    shown = repr(str(text))
    return shown if len(shown) <= 80 else shown[:70] + "...'"
