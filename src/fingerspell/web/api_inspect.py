"""The inspect page and its background analyses: a folder under a root (one model or two side
by side) and a video (uploaded or under a root) -> per-frame letters and the spelled text.

Start one with POST, then poll `GET /api/jobs/{id}?since=N` for the results after the first N.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fingerspell.errors import FingerspellError
from fingerspell.infer.batch import expected_label
from fingerspell.infer.sources import VideoSource, load_image_frame, open_video
from fingerspell.web import roots as roots_module
from fingerspell.web.api_predict import parse_classes, parse_conf
from fingerspell.web.assets import STATIC_DIR
from fingerspell.web.jobs import Job, Jobs
from fingerspell.web.predictors import SERVED, PredictorPool, Predictors
from fingerspell.web.roots import NotUnderRoot
from fingerspell.web.uploads import open_upload_video, read_upload

router = APIRouter(tags=["inspect"])

# A folder job stops here; the page says so (analyse a subfolder, or use `fingerspell predict`).
MAX_FOLDER_IMAGES = 5000


@router.get("/inspect", include_in_schema=False)
def inspect_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "inspect.html")


def jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def _pools(request: Request, models: list[str], classes: list[str] | None) -> list[tuple[str, PredictorPool]]:
    predictors: Predictors = request.app.state.predictors
    try:
        return [(name or SERVED, predictors.pool(name, classes)) for name in models]
    except FingerspellError as exc:
        raise HTTPException(400, str(exc)) from None


class FolderJob(BaseModel):
    root: int = Field(0, description="root number from GET /api/roots")
    path: str = Field("", description="folder relative to the root; its images are read recursively")
    model: str = Field(SERVED, description="a name from GET /api/models")
    compare: str | None = Field(None, description="a second model to run on the same images")
    conf: float | None = Field(None, description="smallest calibrated probability reported as a letter "
                               "(default: the bundle's)")
    classes: str = Field("", description="comma-separated letters to keep (empty = all)")
    limit: int | None = Field(None, ge=1, le=MAX_FOLDER_IMAGES, description="analyse at most this many images")


@router.post("/api/jobs/folder", tags=["jobs"])
def start_folder_job(request: Request, body: FolderJob) -> dict[str, Any]:
    """Analyse every image under a folder (recursively) with one model, or two side by side.
    Each result: `path`, `expected` (the class its folder is named after, when there is one),
    `records` (one `predict --json` record per model, in order). 404 outside the roots."""
    conf, classes = parse_conf(body.conf), parse_classes(body.classes)
    models = [body.model] + ([body.compare] if body.compare else [])
    pools = _pools(request, models, classes)
    limit = body.limit or MAX_FOLDER_IMAGES
    try:
        images = roots_module.images_under(request.app.state.config.roots, body.root, body.path, limit=limit + 1)
    except NotUnderRoot:
        raise HTTPException(404, "no such folder") from None
    if not images:
        raise HTTPException(400, f"{body.path or 'the root'}: no images in this folder or below it")
    truncated = len(images) > limit
    images = images[:limit]
    labels = pools[0][1].labels()

    def work(job: Job) -> dict[str, Any]:
        counts = {"images": 0, "hands": 0, "labelled": 0, "correct": 0, "agree": 0}
        for index, item in enumerate(images):
            frame = load_image_frame(item.path, index)
            frame.source = item.relative
            records = []
            for _, pool in pools:
                with pool.borrow(conf) as predictor:  # per image: other requests interleave
                    records.append(predictor.predict_frame(frame, mode="image").to_dict())
            expected = expected_label(item.relative, labels)
            counts["images"] += 1
            counts["hands"] += int(records[0]["hand"])
            if expected is not None:
                counts["labelled"] += 1
                counts["correct"] += int(records[0]["letter"] == expected)
            if len(records) > 1:
                counts["agree"] += int(records[0]["letter"] == records[1]["letter"])
            job.add({"index": index, "root": item.root, "path": item.relative, "expected": expected,
                     "records": records})
        return {**counts, "models": [name for name, _ in pools], "truncated": truncated}

    title = f"{body.path or 'root'} ({len(images)} images{', more not analysed' if truncated else ''})"
    job = jobs(request).start("folder", title, work, total=len(images))
    return job.view()


def _video_work(source: VideoSource, reopen: Callable[[], VideoSource], pools: list[tuple[str, PredictorPool]],
                conf: float | None):
    """The job for one video: every frame through the first model (the page's timeline), then,
    when a second model is given, the same video through it too (`summary.compare`)."""
    def spell(pool: PredictorPool, frames: VideoSource, job: Job, record: bool) -> tuple[Any, float | None, int, list]:
        hands, frame_letters = 0, []
        with pool.borrow(conf) as predictor:  # a whole video: tracking state belongs to one stream
            for p in predictor.predict(frames):
                hands += int(p.hand)
                job.add({"frame": p.frame_index, "time": None if p.timestamp is None else round(p.timestamp, 3),
                         "letter": p.letter, "raw_letter": p.raw_letter, "confidence": round(p.confidence, 3),
                         "hand": p.hand, "top": p.top5[0][0] if p.top5 else None,
                         "commits": [c.to_dict() for c in p.commits], "text": p.text} if record else None)
                frame_letters.append(p.letter)
            return predictor.last_speller, predictor.last_fps, hands, frame_letters

    def work(job: Job) -> dict[str, Any]:
        (name, pool), *others = pools
        speller, fps, hands, _ = spell(pool, source, job, record=True)
        frames = len(job.results)
        summary = {"model": name, "text": speller.text, "letters": speller.letters(), "frames": frames,
                   "hands": hands, "fps": fps, "seconds_of_video": round(frames / fps, 3) if fps else None}
        if others:
            (other_name, other_pool), = others
            second = reopen()
            try:
                other, _, other_hands, frame_letters = spell(other_pool, second, job, record=False)
            finally:
                second.close()
            summary["compare"] = {"model": other_name, "text": other.text, "letters": other.letters(),
                                  "hands": other_hands, "frame_letters": frame_letters}
        return summary
    return work


@router.post("/api/jobs/video", tags=["jobs"])
async def start_video_job(
    request: Request,
    file: UploadFile | None = File(None, description="a video file (checked by decoding); or give root + path"),
    root: int = Form(0), path: str = Form(""),
    model: str = Form(SERVED), conf: float | None = Form(None), classes: str = Form(""),
    compare: str = Form("", description="a second model to spell the same video (summary.compare)"),
) -> dict[str, Any]:
    """Analyse a video: each frame's smoothed letter, and the spelled text with each letter's
    time (`summary.letters`), as `fingerspell predict VIDEO` spells it; with `compare`, the same
    video spelled by a second model too. 413 / 415 for an upload over the limit or not a video;
    404 for a path outside the roots."""
    conf, chosen = parse_conf(conf), parse_classes(classes)
    pools = _pools(request, [model] + ([compare] if compare and compare != model else []), chosen)
    if file is not None and file.filename:
        data = await read_upload(file, request.app.state.config.max_upload_bytes)
        source, tmp = await run_in_threadpool(open_upload_video, data, file.filename)
        title, video_path = file.filename, tmp
    else:
        try:
            where = roots_module.resolve(request.app.state.config.roots, root, path)
        except NotUnderRoot:
            raise HTTPException(404, "no such video") from None
        if roots_module.kind_of(where.path) != "video" or not where.path.is_file():
            raise HTTPException(404, "no such video")
        try:
            source = await run_in_threadpool(open_video, where.path)
        except FingerspellError:
            raise HTTPException(415, f"{where.relative}: not a video (no frame could be decoded)") from None
        source.name, tmp, title, video_path = where.relative, None, where.relative, where.path
    total = source.size()

    def reopen() -> VideoSource:
        again = open_video(video_path)
        again.name = source.name
        return again

    def cleanup() -> None:
        source.close()
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)

    job = jobs(request).start("video", title, _video_work(source, reopen, pools, conf),
                              total=total * len(pools) if total else total, cleanup=cleanup)
    return job.view()


@router.get("/api/jobs/{job_id}", tags=["jobs"])
def job_status(request: Request, job_id: str, since: int = 0) -> dict[str, Any]:
    """A job's state, progress (`done` of `total`), the results after the first `since`, and
    when it has ended its `summary`."""
    job = jobs(request).get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job.view(since)


@router.delete("/api/jobs/{job_id}", tags=["jobs"])
def cancel_job(request: Request, job_id: str) -> dict[str, Any]:
    """Ask a running job to stop after the item it is on."""
    job = jobs(request).get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    job.cancel_requested = True
    return job.view(len(job.results))
