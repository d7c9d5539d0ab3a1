"""Temporary files a killed process left behind, removed on the next run.

An import builds its index in `.NAME.sqlite.PID.tmp` (SQLite adds `-journal`) and an export
builds `.OUT.export-PID.tmp/` beside OUT; both are renamed into place at the end. A process
killed with SIGKILL cannot clean up, so the next import or export removes those whose PID is
no longer running (a running PID may be another import in progress: left alone).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_INDEX_TMP = re.compile(r"^\..+\.sqlite\.(\d+)\.tmp(-journal|-wal|-shm)?$")
_EXPORT_TMP = re.compile(r"^\..+\.export-(\d+)\.tmp$")


def pid_running(pid: int) -> bool:
    """Whether a process with this id exists (possibly another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # exists but belongs to someone else
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove index and export temporaries of dead processes in `folder`; returns what went.

    Never raises: a leftover that cannot be removed is left for next time."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _INDEX_TMP.match(entry.name) or _EXPORT_TMP.match(entry.name)
        if not match or pid_running(int(match.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed
