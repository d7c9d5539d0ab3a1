"""`POST /api/predict` (one uploaded image -> the `fingerspell predict --json` record) and the
models a page may choose from.

The content of an upload is checked by decoding it (415 when it is not an image), never by its
name; its size by `RequestSizeLimit` and `read_upload` (413).
"""
from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile

from fingerspell.errors import FingerspellError
from fingerspell.infer.sources import Frame
from fingerspell.web.predictors import SERVED, PredictorPool, Predictors, available_models
from fingerspell.web.uploads import decode_upload_image, read_upload

router = APIRouter(prefix="/api", tags=["predict"])


def predictors(request: Request) -> Predictors:
    return request.app.state.predictors


def parse_conf(conf: float | None) -> float | None:
    """None = the bundle's default threshold. Raises HTTPException 400 for one outside 0..1."""
    if conf is not None and not 0.0 <= conf <= 1.0:
        raise HTTPException(400, f"conf must be between 0 and 1, got {conf}")
    return conf


def parse_classes(classes: str | None) -> list[str] | None:
    """"A,B, C" -> ["A", "B", "C"]; empty -> None (every class)."""
    names = [c.strip() for c in (classes or "").split(",") if c.strip()]
    return names or None


def model_pool(request: Request, model: str, classes: list[str] | None) -> PredictorPool:
    """Raises HTTPException 400 for an unknown model or class."""
    try:
        return predictors(request).pool(model, classes)
    except FingerspellError as exc:
        raise HTTPException(400, str(exc)) from None


def predict_rgb(pool: PredictorPool, rgb: Any, name: str, decode_ms: float, conf: float | None) -> dict[str, Any]:
    """Recognise one decoded image with a pooled predictor; the `predict --json` record."""
    with pool.borrow(conf) as predictor:
        prediction = predictor.predict_frame(Frame(rgb, name, 0, None, decode_ms), mode="image")
    return prediction.to_dict()


@router.get("/models")
def models(request: Request) -> list[dict[str, Any]]:
    """The models this server can analyse with: `served` (started with), `default` (shipped in
    the package) and each bundle folder in FINGERSPELL_HOME/models, by name."""
    return available_models(request.app.state.bundle)


@router.post("/predict")
async def predict(
    request: Request,
    file: UploadFile = File(..., description="one image (JPEG, PNG, BMP, WebP, TIFF); checked by decoding"),
    model: str = Form(SERVED, description="a name from GET /api/models"),
    conf: float | None = Form(None, description="smallest calibrated probability reported as a letter "
                              "(default: the bundle's still-image threshold)"),
    classes: str = Form("", description="comma-separated letters to keep (empty = all)"),
) -> dict[str, Any]:
    """Recognise the letter in one uploaded image: the same record as `fingerspell predict
    IMAGE --json` (letter, confidence, top5, hand_box, landmarks, handedness, timings_ms, ...).
    413 over the upload limit, 415 when the file is not an image, 400 for a bad model, class or
    threshold."""
    limit = request.app.state.config.max_upload_bytes
    data = await read_upload(file, limit)
    name = file.filename or "upload"
    conf = parse_conf(conf)
    pool = model_pool(request, model, parse_classes(classes))

    def work() -> dict[str, Any]:  # decoding and the model both belong off the event loop
        rgb, decode_ms = decode_upload_image(data, name)
        return predict_rgb(pool, rgb, name, decode_ms, conf)

    # At most as many threads as the pool has predictors; the rest wait without a thread.
    return await anyio.to_thread.run_sync(work, limiter=pool.limiter())
