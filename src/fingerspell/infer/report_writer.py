"""A prediction report written a row at a time, so a run that dies keeps the rows it finished.

A folder of 10,000 photos takes minutes; if the process is killed part way (or dies in native
code) the rows already done are on disk. CSV rows are flushed as they come; a `.json` report
is a list written an element a line, closed with `]` at the end (a run killed natively leaves
it without the `]`, every finished row still on its own line).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


class ReportWriter:
    """Open `path` (CSV, or a JSON list when the suffix is .json) and write `columns` rows."""

    def __init__(self, path: str | Path, columns: list[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.json = self.path.suffix.lower() == ".json"
        self.rows = 0
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        if self.json:
            self._handle.write("[")
            self._csv = None
        else:
            self._csv = csv.DictWriter(self._handle, fieldnames=columns, lineterminator="\n")
            self._csv.writeheader()
        self._handle.flush()

    def write(self, row: dict[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow(row)
        else:
            self._handle.write(("," if self.rows else "") + "\n" + json.dumps(row))
        self.rows += 1
        self._handle.flush()

    def close(self) -> None:
        if self._handle.closed:
            return
        if self.json:
            self._handle.write("\n]\n")
        self._handle.close()

    def __enter__(self) -> "ReportWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
