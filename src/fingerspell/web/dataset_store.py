"""Opening dataset indexes from many request threads at once, safely.

A `Dataset` holds one sqlite3 connection, which belongs to the thread that opened it: each
request opens its own and closes it when done (about a millisecond). Writes (fixes) take a
per-dataset lock in this process, so two fixes never wait on each other inside SQLite, and
every connection gets a long busy timeout, so a write from another process (the CLI) or a
reader caught during a commit waits instead of failing with "database is locked".
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fingerspell.data.index import Dataset, index_path

BUSY_TIMEOUT_MS = 30_000


class DatasetStore:
    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def write_lock(self, name: str) -> threading.Lock:
        """The lock every writer of dataset `name` in this server holds."""
        key = str(index_path(name))
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def open(self, name: str) -> Iterator[Dataset]:
        """The dataset for this thread. Raises DatasetNotFoundError / FingerspellError (bad name)."""
        ds = _load(name)
        try:
            yield ds
        finally:
            ds.close()

    @contextmanager
    def writing(self, name: str) -> Iterator[Dataset]:
        """The dataset for this thread, with this server's write lock for it held."""
        with self.write_lock(name):
            with self.open(name) as ds:
                yield ds


def _load(name: str) -> Dataset:
    # Opening runs the schema script (CREATE ... IF NOT EXISTS), which needs a lock for a moment:
    # sqlite3's own busy timeout (`timeout`) covers it; the pragma covers the connection's life.
    for attempt in range(3):
        try:
            ds = Dataset.load(name)
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 2:
                raise
    ds.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return ds
