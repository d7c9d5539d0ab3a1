"""Paths taken from data stay inside their root folder, symbolic links included.

A dataset names files (CSV `filename` columns, COCO `file_name`, YOLO folders, symbolic links
in class folders) and labels that become folder names on export. Each such path is resolved
(`..` collapsed, every symlink followed) and must still lie under the resolved root; anything
else is refused with `UnsafePathError`, at import and again when the file is read or written.
"""
from __future__ import annotations

import os
from pathlib import Path

from fingerspell.errors import UnsafePathError


def is_inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether `path`, fully resolved (symlinks followed), lies in or at resolved `root`."""
    try:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return False


def contained(path: str | os.PathLike, root: str | os.PathLike, what: str = "") -> Path:
    """`path` itself (unresolved) once checked to resolve inside `root`.

    Raises UnsafePathError naming `what` (or the path) and the root."""
    if not is_inside(path, root):
        link = " (a symbolic link)" if _is_link(path) else ""
        raise UnsafePathError(f"{what or path}{link}: leads outside the folder {root}; refused")
    return Path(path)


def child(root: str | os.PathLike, *parts: str, what: str = "") -> Path:
    """`root / parts...`, refused when a part is absolute, `..`, or it resolves outside `root`
    (the check for every file and folder name an exporter builds from data).

    Raises UnsafePathError."""
    for part in parts:
        if not part or Path(part).is_absolute() or ".." in Path(part).parts or "\x00" in part:
            raise UnsafePathError(f"{what or part!r}: {part!r} is not a plain name inside {root}; refused")
    return contained(Path(root).joinpath(*parts), root, what or str(Path(*parts)))


def _is_link(path: str | os.PathLike) -> bool:
    try:
        return any(p.is_symlink() for p in [Path(path), *Path(path).parents])
    except OSError:
        return False
