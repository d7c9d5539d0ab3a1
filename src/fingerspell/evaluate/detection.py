"""Score a recogniser as a detector on a dataset with hand boxes (asl-letters' YOLO boxes).

Each image's prediction is one box (the hand box the predictor found) with one letter and
its probability. Scored with pycocotools' COCOeval (the reference COCO implementation):
mAP@0.5, mAP@0.5:0.95 and per-letter AP against the annotated boxes; plus the table of the
Datature ASL tutorial: per letter, is the right letter found on the right box (IoU >= 0.5)
at >= 50% confidence.

`evaluate_detection(dataset, predictor)` runs any object with the `Predictor` interface
(`predict(list_of_paths, workers=...)` yielding predictions with `hand_box` and `top5`): the
command line hands it `fingerspell.infer.Predictor`, which this layer does not import.
`score_detections` scores detections made any other way (e.g. from cached landmarks).
"""
from __future__ import annotations

import contextlib
import html
import io
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic
from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import FingerspellError

CONFIDENT = 0.5   # the tutorial's "found at >= 50% confidence"
IOU_MATCH = 0.5


@dataclass
class Detection:
    """One predicted hand: box (xmin, ymin, xmax, ymax) in pixels or None (no hand), letter, score."""

    sample_id: int
    box: tuple[float, float, float, float] | None
    letter: str | None
    score: float


@dataclass
class DetectionReport:
    """Detection scores; `to_dict()` is what detection.json holds."""

    data: str
    model: str
    images: int
    boxes: int
    no_hand: int
    map50: float
    map50_95: float
    per_letter: list[dict[str, Any]]
    note: str = ""
    seconds: float = 0.0
    created: str = ""
    out: str | None = None
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        found = [r["letter"] for r in self.per_letter if r["found"]]
        missed = [r["letter"] for r in self.per_letter if not r["found"]]
        lines = [f"{self.model} on {self.data}: {self.images} images, {self.boxes} boxes, no hand in {self.no_hand}; "
                 f"mAP@0.5 {self.map50:.3f}, mAP@0.5:0.95 {self.map50_95:.3f}",
                 f"letters found at >= 50% confidence: {len(found)}/{len(self.per_letter)}"
                 + (f" (not: {', '.join(missed)})" if missed else "")]
        if self.note:
            lines.append(self.note)
        if self.out:
            lines.append(f"report: {Path(self.out) / 'detection.html'}")
        return "\n".join(lines)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def boxed_samples(dataset: Dataset, limit: int | None = None) -> list[Sample]:
    """The samples with at least one annotated box; `limit` keeps that many spread evenly
    over them (every k-th, in id order). Raises FingerspellError when none has a box."""
    samples = [s for s in dataset.samples() if s.boxes]
    if not samples:
        raise FingerspellError(f"dataset {dataset.name!r} has no annotated boxes: detection scoring needs boxes "
                               "(asl-letters' YOLO labels, a COCO or corners CSV import)")
    if limit is not None and 0 < limit < len(samples):
        picks = np.linspace(0, len(samples) - 1, limit).round().astype(int)
        samples = [samples[i] for i in np.unique(picks)]
    return samples


def score_detections(dataset: Dataset, samples: Sequence[Sample], detections: Iterable[Detection],
                     model: str = "", note: str = "") -> DetectionReport:
    """COCO mAP of `detections` (at most one per sample is expected, more are allowed) against
    the annotated boxes of `samples`. Letters are matched case-insensitively to the dataset's
    classes; a detection whose letter is not a class, or without a box, scores nothing.
    Raises FingerspellError when `samples` is empty.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not samples:
        raise FingerspellError("no samples to score")
    started = time.perf_counter()
    letters = sorted({b.label for s in samples for b in s.boxes})
    category = {letter.upper(): k + 1 for k, letter in enumerate(letters)}
    ids = {s.id for s in samples}
    gt: dict[str, Any] = {"images": [], "annotations": [], "categories": [
        {"id": k, "name": letter} for letter, k in ((letter, category[letter.upper()]) for letter in letters)]}
    for s in samples:
        gt["images"].append({"id": s.id, "width": s.width or 0, "height": s.height or 0})
        for b in s.boxes:
            w, h = b.xmax - b.xmin, b.ymax - b.ymin
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": s.id,
                                      "category_id": category[b.label.upper()], "bbox": [b.xmin, b.ymin, w, h],
                                      "area": w * h, "iscrowd": 0})
    dets, by_sample, no_hand = [], {}, 0
    for d in detections:
        if d.sample_id not in ids:
            continue
        by_sample[d.sample_id] = d
        if d.box is None or d.letter is None:
            no_hand += int(d.box is None)
            continue
        k = category.get(d.letter.upper())
        if k is None:
            continue
        x0, y0, x1, y1 = (float(v) for v in d.box)
        dets.append({"image_id": d.sample_id, "category_id": k, "bbox": [x0, y0, x1 - x0, y1 - y0],
                     "score": float(d.score)})
    no_hand += len(ids) - len(by_sample)
    per_ap50 = np.zeros(len(letters))
    per_ap = np.zeros(len(letters))
    map50 = map50_95 = 0.0
    if dets:
        # pycocotools prints its progress and summary table: keep the library quiet.
        with contextlib.redirect_stdout(io.StringIO()):
            coco_gt = COCO()
            coco_gt.dataset = gt
            coco_gt.createIndex()
            coco_dt = coco_gt.loadRes(dets)
            evaluator = COCOeval(coco_gt, coco_dt, "bbox")
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        map50_95, map50 = float(evaluator.stats[0]), float(evaluator.stats[1])
        precision = evaluator.eval["precision"]  # [IoU thresholds, recall points, classes, areas, max dets]
        for k in range(len(letters)):
            p = precision[:, :, k, 0, -1]
            per_ap[k] = float(p[p > -1].mean()) if (p > -1).any() else 0.0
            p50 = precision[0, :, k, 0, -1]
            per_ap50[k] = float(p50[p50 > -1].mean()) if (p50 > -1).any() else 0.0
    per_letter = []
    for k, letter in enumerate(letters):
        mine = [s for s in samples if any(b.label == letter for b in s.boxes)]
        confident = 0
        for s in mine:
            d = by_sample.get(s.id)
            if (d is not None and d.box is not None and d.letter is not None and d.letter.upper() == letter.upper()
                    and d.score >= CONFIDENT and any(_iou(d.box, (b.xmin, b.ymin, b.xmax, b.ymax)) >= IOU_MATCH
                                                     for b in s.boxes if b.label == letter)):
                confident += 1
        per_letter.append({"letter": letter, "images": len(mine), "ap50": round(per_ap50[k], 4),
                           "ap50_95": round(per_ap[k], 4), "confident": confident,
                           "confident_share": round(confident / len(mine), 4) if mine else 0.0,
                           "found": bool(mine) and confident / len(mine) >= 0.5})
    return DetectionReport(
        data=dataset.name, model=model, images=len(samples), boxes=len(gt["annotations"]), no_hand=no_hand,
        map50=map50, map50_95=map50_95, per_letter=per_letter, note=note,
        seconds=time.perf_counter() - started, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def evaluate_detection(dataset: Dataset | str, predictor: Any, limit: int | None = None, workers: int = 1,
                       model: str | None = None, note: str = "", progress: bool = False) -> DetectionReport:
    """Run `predictor` (a `fingerspell.infer.Predictor`, or anything with its `predict`) on the
    boxed samples of `dataset` (at most `limit`, spread evenly) and score it as a detector.

    Raises DatasetNotFoundError, FingerspellError (no boxes; images that are not files) and
    whatever the predictor raises for an unreadable image.
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    samples = boxed_samples(ds, limit)
    if any(s.row is not None for s in samples):
        raise FingerspellError(f"dataset {ds.name!r}: detection scoring reads image files; its samples are pixel rows")
    started = time.perf_counter()
    paths = [str(ds.file_path(s)) for s in samples]
    stream = predictor.predict(paths, workers=workers)
    if progress:
        from tqdm import tqdm

        stream = tqdm(stream, total=len(paths), desc=f"detect {ds.name}", unit="img", leave=False)
    detections = []
    for sample, p in zip(samples, stream):
        top = p.top5[0] if p.top5 else (None, 0.0)
        box = tuple(float(v) for v in p.hand_box) if p.hand_box is not None else None
        detections.append(Detection(sample.id, box, top[0] if box else None, float(top[1]) if box else 0.0))
    name = model or str(getattr(getattr(predictor, "bundle", None), "name", "") or "predictor")
    report = score_detections(ds, samples, detections, model=name, note=note)
    report.seconds = time.perf_counter() - started
    return report


def write_detection_report(report: DetectionReport, out: str | Path) -> Path:
    """detection.json + detection.html in folder `out` (written atomically); returns the folder."""
    out = Path(out)
    report.out = str(out)
    report.files = ["detection.json", "detection.html"]
    atomic.write_json(out / "detection.json", report.to_dict())
    atomic.write_text(out / "detection.html", detection_html(report))
    return out


def detection_html(report: DetectionReport) -> str:
    """The detection section of a report: headline mAP, per-letter AP and the tutorial table."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r['letter'])}</td><td>{r['images']}</td><td>{r['ap50']:.3f}</td><td>{r['ap50_95']:.3f}</td>"
        f"<td>{r['confident']} ({r['confident_share']:.0%})</td><td>{'yes' if r['found'] else 'no'}</td></tr>"
        for r in report.per_letter)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>detection: {e(report.model)} on {e(report.data)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f0f0f0}}td:first-child{{text-align:left}}</style>
</head><body><h1>Detection: {e(report.model)} on {e(report.data)}</h1>
<p>{report.images} images, {report.boxes} annotated boxes, no hand found in {report.no_hand}. Each image's prediction
is the predicted hand box with its top letter and that letter's probability; scored with pycocotools (COCO mAP).
{e(report.created)}</p>
<p style="font-size:1.3em">mAP@0.5 <b>{report.map50:.3f}</b> &middot; mAP@0.5:0.95 <b>{report.map50_95:.3f}</b></p>
{f'<p>{e(report.note)}</p>' if report.note else ''}
<h2>Per letter</h2>
<p>"found": the right letter on the annotated box (IoU &ge; {IOU_MATCH}) at &ge; {CONFIDENT:.0%} confidence in at least
half of the letter's images (the Datature tutorial's yes/no table).</p>
<table><tr><th>letter</th><th>images</th><th>AP@0.5</th><th>AP@0.5:0.95</th><th>right at &ge; 50%</th><th>found</th></tr>
{rows}</table></body></html>
"""
