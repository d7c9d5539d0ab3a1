"""Dataset pictures (thumbnails with their boxes), the `data check` report and export."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fingerspell import home
from fingerspell.data.check import DEFAULT_NEAR_THRESHOLD, check
from fingerspell.data.export import EXPORT_FORMATS, export_dataset
from fingerspell.data.sheet import render_tile
from fingerspell.errors import CorruptImageError
from fingerspell.web.api_datasets import get_sample, http_errors, store

router = APIRouter(tags=["datasets"])

BOX_COLOUR = (40, 220, 60)
MAX_IMAGE_SIDE = 1600


def picture(ds: Any, sample: Any, size: int, boxes: bool) -> np.ndarray:
    """The sample's image scaled so its longer side is `size` (0 = as stored, up to
    MAX_IMAGE_SIDE), RGB, with its boxes drawn when `boxes`. Raises CorruptImageError."""
    if not ds.has_images:  # landmark-only data: the skeleton is the picture
        return render_tile(ds, sample, size or 320)
    image = ds.image(sample)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = image.shape[:2]
    side = size or min(max(h, w), MAX_IMAGE_SIDE)
    scale = side / max(h, w)
    if scale != 1.0:
        small = scale < 1 or max(h, w) > 64  # tiny Sign-MNIST pixels stay crisp when enlarged
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else (cv2.INTER_LINEAR if small else cv2.INTER_NEAREST))
    image = np.ascontiguousarray(image)
    if boxes:
        thick = max(1, round(max(image.shape[:2]) / 160))
        for box in sample.boxes:
            p1 = (int(round(box.xmin * scale)), int(round(box.ymin * scale)))
            p2 = (int(round(box.xmax * scale)), int(round(box.ymax * scale)))
            cv2.rectangle(image, p1, p2, BOX_COLOUR, thick)
    return image


@router.get("/api/datasets/{name}/samples/{sample_id}/image")
def sample_image(request: Request, name: str, sample_id: int,
                 size: int = Query(160, ge=0, le=MAX_IMAGE_SIDE, description="longer side in pixels; 0 = as stored"),
                 boxes: bool = Query(True, description="draw the sample's boxes (fixes applied)")) -> Response:
    """The sample's picture as JPEG (PNG for small images): a thumbnail with its boxes by
    default. 404 for an unknown dataset or sample, 422 when the source image cannot be read."""
    with http_errors(), store(request).open(name) as ds:
        sample = get_sample(ds, sample_id)
        try:
            rgb = picture(ds, sample, size, boxes)
        except CorruptImageError as exc:
            raise HTTPException(422, str(exc)) from None
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    png = max(rgb.shape[:2]) <= 64
    ok, data = cv2.imencode(".png" if png else ".jpg", bgr, [] if png else [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise HTTPException(500, "could not encode the picture")
    # Boxes and labels change with fixes: never let a browser reuse an old picture.
    return Response(data.tobytes(), media_type="image/png" if png else "image/jpeg",
                    headers={"Cache-Control": "no-store"})


class CheckRequest(BaseModel):
    near_threshold: int = Field(DEFAULT_NEAR_THRESHOLD, ge=0, le=32, description="near-duplicate Hamming distance")
    limit: int = Field(200, ge=1, le=5000, description="entries kept per list (totals are in `counts`)")


@router.post("/api/datasets/{name}/check")
async def run_check(request: Request, name: str, body: CheckRequest | None = None) -> dict[str, Any]:
    """`fingerspell data check`: missing / corrupt / changed files, bad boxes, unknown labels,
    exact and near duplicates and the pairs that leak across splits. The first check of a large
    dataset decodes every image (seconds to a minute); later ones reuse the stored hashes."""
    body = body or CheckRequest()

    def work() -> dict[str, Any]:
        # No write lock: the check only stores hashes (its own columns) in one short
        # transaction, which the busy timeout orders with any fix.
        with http_errors(), store(request).open(name) as ds:
            report = check(ds, near_threshold=body.near_threshold, progress=False)
            data = report.to_dict(limit=body.limit)
            data["summary"] = report.summary()
            return data

    return await run_in_threadpool(work)


class ExportRequest(BaseModel):
    format: Literal[EXPORT_FORMATS] = Field("folders", description="folders, yolo, corners-csv or coco")  # type: ignore[valid-type]
    split: str | None = Field(None, description="export one split only (train, val, test)")


@router.post("/api/datasets/{name}/export")
async def run_export(request: Request, name: str, body: ExportRequest) -> dict[str, Any]:
    """`fingerspell data export`: the dataset as it is now (fixes applied) in a new folder under
    FINGERSPELL_HOME/exports (the server picks the name; a request cannot choose a path)."""
    def work() -> dict[str, Any]:
        with http_errors(), store(request).open(name) as ds:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            safe = re.sub(r"[^A-Za-z0-9_-]", "_", f"{ds.name}-{body.format}{'-' + body.split if body.split else ''}")
            out = home.home() / "exports" / f"{safe}-{stamp}"
            out.parent.mkdir(parents=True, exist_ok=True)
            result = export_dataset(ds, body.format, out, split=body.split or None)
            return {"path": str(result.out), "format": result.format, "images": result.images,
                    "boxes": result.boxes, "by_split": result.by_split, "notes": result.notes}

    return await run_in_threadpool(work)
