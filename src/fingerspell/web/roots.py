"""The folders the inspect page may read (`fingerspell serve --root DIR`), and nothing else.

A path from a request is always (root index, relative path). It is refused -- with
`NotUnderRoot`, which the API turns into 404 so a caller learns nothing about the disk --
when it is absolute, has a `..` part, or resolves (symlinks followed) to somewhere outside
its root. Symlinks that stay inside the root are followed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fingerspell.data.images import IMAGE_SUFFIXES
from fingerspell.errors import FingerspellError
from fingerspell.infer.sources import VIDEO_SUFFIXES

# A folder listing stops here: the page shows a count, not a 100,000-row list.
MAX_LISTED = 2000


class NotUnderRoot(FingerspellError):
    """A requested path is not inside one of the server's roots (or does not exist)."""


@dataclass(frozen=True)
class RootPath:
    """A resolved path inside root number `root`; `relative` is how the page names it."""

    root: int
    path: Path
    relative: str


def resolve(roots: list[Path], root: int, relative: str = "") -> RootPath:
    """Resolve `relative` inside `roots[root]`. Raises NotUnderRoot for anything outside it
    (absolute paths, `..`, symlinks out, unknown root) or that does not exist."""
    if not 0 <= root < len(roots):
        raise NotUnderRoot(f"no root number {root}")
    base = roots[root]
    text = (relative or "").replace("\\", "/").strip("/")
    parts = PurePosixPath(text).parts if text else ()
    if text.startswith("/") or any(part in ("..", "") for part in parts) or "\x00" in text:
        raise NotUnderRoot(f"{relative!r}: not a path inside the root")
    candidate = base.joinpath(*parts)
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise NotUnderRoot(f"{relative!r}: no such file or folder under the root") from None
    if resolved != base and not resolved.is_relative_to(base):
        raise NotUnderRoot(f"{relative!r}: leads outside the root")
    return RootPath(root, resolved, "/".join(parts))


def _inside(base: Path, path: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(base)
    except (OSError, RuntimeError):
        return False


def kind_of(path: Path) -> str | None:
    """"image", "video" or None, by suffix (only for listing; content is checked on decode)."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


def listing(roots: list[Path], root: int, relative: str = "") -> dict:
    """Subfolders, images and videos directly in a folder (entries leading outside the root
    are left out). Raises NotUnderRoot for a path outside the roots or not a folder."""
    where = resolve(roots, root, relative)
    if not where.path.is_dir():
        raise NotUnderRoot(f"{relative!r}: not a folder")
    base = roots[root]
    folders, files = [], []
    for entry in sorted(where.path.iterdir(), key=lambda p: p.name.lower()):
        if entry.name.startswith(".") or not _inside(base, entry):
            continue
        rel = f"{where.relative}/{entry.name}" if where.relative else entry.name
        if entry.is_dir():
            folders.append({"name": entry.name, "path": rel})
        elif (kind := kind_of(entry)) is not None and len(files) < MAX_LISTED:
            files.append({"name": entry.name, "path": rel, "kind": kind})
    return {"root": root, "path": where.relative, "folders": folders, "files": files,
            "truncated": len(files) >= MAX_LISTED}


def images_under(roots: list[Path], root: int, relative: str = "", limit: int | None = None) -> list[RootPath]:
    """Every image under a folder, recursively, sorted by path, none leading outside the root.
    Raises NotUnderRoot for a path outside the roots or not a folder."""
    where = resolve(roots, root, relative)
    if not where.path.is_dir():
        raise NotUnderRoot(f"{relative!r}: not a folder")
    base = roots[root]
    found: list[RootPath] = []
    for path in sorted(where.path.rglob("*")):
        if kind_of(path) != "image" or any(p.startswith(".") for p in path.relative_to(where.path).parts):
            continue
        if not path.is_file() or not _inside(base, path):
            continue
        rel = path.relative_to(where.path).as_posix()
        found.append(RootPath(root, path.resolve(), f"{where.relative}/{rel}" if where.relative else rel))
        if limit is not None and len(found) >= limit:
            break
    return found
