"""What every fuzz property checks: success, or one FingerspellError line and no index change."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fingerspell.data import import_dataset
from fingerspell.data.names import class_name_problem
from fingerspell.data.safe_paths import is_inside
from fingerspell.errors import FingerspellError
from tests.data.helpers import datasets_snapshot
from tests.fuzz.conftest import TRIED




def count(test: str, outcome: str) -> None:
    entry = TRIED.setdefault(test, {})
    entry[outcome] = entry.get(outcome, 0) + 1


def outcome_of(test: str, action: Callable[[], Any], *, check_index: bool = True) -> Any:
    """Run `action`: it returns, or raises a FingerspellError whose message is one non-empty
    line, and then the datasets folder is byte for byte what it was. Any other exception
    propagates (hypothesis reports it, shrunk)."""
    before = datasets_snapshot() if check_index else None
    try:
        result = action()
    except FingerspellError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        assert len(message.splitlines()) == 1, f"message is not one line: {message!r}"
        if check_index:
            assert datasets_snapshot() == before, "a failed call changed the datasets folder"
        count(test, "refused")
        return exc
    count(test, "accepted")
    return result


def try_import(test: str, path: Path, format: str = "auto") -> int | None:
    """Import `path` as dataset `fuzz`; on success check what went in and remove it again.
    Returns the sample count, or None when the import was refused."""
    result = outcome_of(test, lambda: import_dataset(path, format=format, name="fuzz"))
    if isinstance(result, FingerspellError):
        return None
    with result as ds:
        for label in ds.classes:
            assert class_name_problem(label) is None, f"class {label!r} got into the index"
        for sample in ds.samples():
            assert sample.label in ds.classes
            if sample.row is None:
                assert is_inside(ds.root / sample.source, ds.root), f"{sample.source} leaves {ds.root}"
        samples = ds.count()
        index = ds.path
    os.unlink(index)
    return samples
