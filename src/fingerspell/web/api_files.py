"""The folders given with `--root`: list them and serve their images to the inspect page.

Every path is (root number, path relative to it); anything outside the roots -- an absolute
path, `..`, a symlink out -- is answered 404, exactly like a file that does not exist.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from fingerspell.web import roots as roots_module
from fingerspell.web.roots import NotUnderRoot

router = APIRouter(prefix="/api", tags=["folders"])

MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".bmp": "image/bmp",
               ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff"}


def server_roots(request: Request) -> list[Path]:
    return request.app.state.config.roots


@router.get("/roots")
def list_roots(request: Request) -> list[dict[str, Any]]:
    """The folders this server may read (`fingerspell serve --root DIR`), by number."""
    return [{"root": i, "name": path.name or str(path), "path": str(path)} for i, path in enumerate(server_roots(request))]


@router.get("/folders")
def list_folder(request: Request, root: int = Query(0, description="root number from GET /api/roots"),
                path: str = Query("", description="folder relative to the root ('' = the root)")) -> dict[str, Any]:
    """Subfolders, images and videos directly in one folder under a root. 404 outside the roots."""
    try:
        return roots_module.listing(server_roots(request), root, path)
    except NotUnderRoot:
        raise HTTPException(404, "no such folder") from None


@router.get("/files")
def get_file(request: Request, root: int = Query(0), path: str = Query(...)) -> FileResponse:
    """One image file under a root, as it is on disk. 404 outside the roots or for a non-image."""
    try:
        where = roots_module.resolve(server_roots(request), root, path)
    except NotUnderRoot:
        raise HTTPException(404, "no such file") from None
    media = MEDIA_TYPES.get(where.path.suffix.lower())
    if media is None or not where.path.is_file():
        raise HTTPException(404, "no such image")
    return FileResponse(where.path, media_type=media)
