"""Uploads: the size limit (413) and content checks by decoding, never by file name (415).

`RequestSizeLimit` is ASGI middleware: it refuses a request whose Content-Length is over the
limit before reading it, and stops one sent without a length (chunked) as soon as more than
the limit has arrived, so an oversized upload is never spooled to disk in full.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import HTTPException, UploadFile

from fingerspell.data.images import decode_image
from fingerspell.errors import CorruptImageError, SourceError
from fingerspell.infer.sources import VideoSource, open_video

# Multipart framing (boundaries, part headers, the other form fields) on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
CHUNK = 1024 * 1024


class UploadTooLarge(HTTPException):
    """Raised from the request's `receive` once the body passes the limit: FastAPI passes an
    HTTPException from there through unchanged (anything else becomes a 400), so it answers 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"upload too large: the limit is {human_size(limit)}")


class RequestSizeLimit:
    """ASGI middleware: 413 for a request body over `limit` bytes."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(send, self.limit)
                return
        received = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise UploadTooLarge(self.limit)
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except UploadTooLarge:
            if not started:
                await _too_large(send, self.limit)


async def _too_large(send: Callable, limit: int) -> None:
    body = ('{"detail": "upload too large: the limit is %s"}' % human_size(limit)).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def request_limit(max_upload_bytes: int) -> int:
    """The whole-request limit for a server whose uploads may be `max_upload_bytes` each."""
    return max_upload_bytes + MULTIPART_OVERHEAD


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded file's bytes. Raises HTTPException 413 over `limit`, 400 when empty."""
    data = bytearray()
    while chunk := await file.read(CHUNK):
        data.extend(chunk)
        if len(data) > limit:
            raise HTTPException(413, f"{file.filename}: upload too large: the limit is {human_size(limit)}")
    if not data:
        raise HTTPException(400, f"{file.filename or 'upload'}: the file is empty")
    return bytes(data)


def decode_upload_image(data: bytes, name: str) -> tuple[np.ndarray, float]:
    """Decode an uploaded image (whatever its name says). Returns (RGB pixels, decode ms).
    Raises HTTPException 415 when the bytes are not an image OpenCV can read."""
    start = time.perf_counter()
    try:
        rgb = decode_image(data, name)
    except CorruptImageError:
        raise HTTPException(415, f"{name}: not an image (the content could not be decoded as JPEG, PNG, "
                                 "BMP, WebP or TIFF)") from None
    return rgb, (time.perf_counter() - start) * 1000


def open_upload_video(data: bytes, name: str) -> tuple[VideoSource, Path]:
    """Write an uploaded video to a temporary file and open it by its content (FFmpeg probes the
    bytes, not the name). Returns (source, temp path: delete it when done). Raises HTTPException
    415 when no frame can be read."""
    handle, tmp = tempfile.mkstemp(prefix="fingerspell-upload-", suffix=".video")
    path = Path(tmp)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            source = open_video(path)
        except SourceError:
            raise HTTPException(415, f"{name}: not a video (no frame could be decoded)") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    source.name = name  # records name the upload, not the temporary file
    return source, path


