"""Predict over a whole source and write what a person wants from it.

`run_prediction(source, ...)` is what `fingerspell predict` calls: it streams predictions from
a `Predictor` and, depending on the source,
- images, folders, globs: a progress bar, a line (or JSON record) per image, a CSV/JSON report
  with one row per image, annotated copies with --save, and a summary with the accuracy
  against folder names when the folders are named after the model's classes;
- videos and cameras: a line per committed letter (or a JSON record per frame), an annotated
  video with --save, a per-frame CSV, and a summary with the spelled text and the time of
  every committed letter.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np

from fingerspell.data.images import IMAGE_SUFFIXES
from fingerspell.errors import SourceError
from fingerspell.infer.predictor import Prediction, Predictor
from fingerspell.infer.report_writer import ReportWriter
from fingerspell.infer.smoothing import switches_per_second
from fingerspell.infer.sources import ImageFilesSource, Source, open_source

# Without --workers a folder gets one worker process per core, at most MAX_DEFAULT_WORKERS
# (each holds its own MediaPipe graphs and model, a few hundred MB), and at least
# MIN_IMAGES_PER_WORKER images each (a worker takes about a second to start). A MediaPipe
# Hands graph runs on one core here (CPU time equals wall time per call), so one process
# leaves the other cores idle: on 300 Massey photos on 2 idle cores, the cascade read 10.5
# images/s with one worker and 17.3 with two (`bench/bench_folder.py --workers 1|2`); on 10
# photos one worker is faster, on 30 two are (7.9 against 7.3 images/s).
MAX_DEFAULT_WORKERS = 4
MIN_IMAGES_PER_WORKER = 10


def default_workers(images: int) -> int:
    """Worker processes for a folder of `images` when the user names none (see above)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_DEFAULT_WORKERS, images // MIN_IMAGES_PER_WORKER))
CSV_IMAGE_COLUMNS = [
    "path", "letter", "confidence", "expected", "correct", "hand", "handedness", "hand_score", "hand_method",
    "box_xmin", "box_ymin", "box_xmax", "box_ymax", "top5", "ms_total", "ms_hands", "error",
]
CSV_FRAME_COLUMNS = [
    "frame", "time", "letter", "confidence", "raw_letter", "hand", "box_xmin", "box_ymin", "box_xmax", "box_ymax",
    "top5", "text", "committed", "ms_decode", "ms_hands", "ms_features", "ms_model", "ms_smoothing", "ms_total",
]


@dataclass
class PredictSummary:
    """What a prediction run produced (also the JSON summary record for videos)."""

    source: str
    kind: str
    items: int = 0
    hands: int = 0
    letters: int = 0
    errors: int = 0
    labelled: int = 0
    correct: int = 0
    seconds: float = 0.0
    text: str | None = None
    committed: list[dict[str, Any]] = field(default_factory=list)
    switches_per_second: float | None = None
    fps: float | None = None
    report: str | None = None
    saved: str | None = None
    mean_ms: dict[str, float] = field(default_factory=dict)
    confusions: dict[tuple[str, str], int] = field(default_factory=dict)  # (expected, said) -> count
    escalated: int = 0  # still images the cascade sent down the full path
    # Labelled images' scores (letters given right, top-1, coverage, ECE, worst letters):
    # `evaluate.still_metrics.score_answers`, the one evaluation path.
    score: Any = None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "summary": True, "source": self.source, "kind": self.kind, "items": self.items, "hands": self.hands,
            "letters": self.letters, "errors": self.errors, "seconds": round(self.seconds, 3),
            "per_second": round(self.items / self.seconds, 2) if self.seconds else None,
            "mean_ms": {k: round(v, 3) for k, v in self.mean_ms.items()},
            "report": self.report, "saved": self.saved,
        }
        if self.escalated:
            data["escalated"] = self.escalated
        if self.score is not None:
            data["score"] = self.score.to_dict(curve=False)
        if self.labelled:
            data.update({"labelled": self.labelled, "correct": self.correct, "accuracy": round(self.accuracy or 0.0, 4),
                         "mistakes": [{"expected": e, "said": s, "count": n} for (e, s), n in
                                      sorted(self.confusions.items(), key=lambda kv: -kv[1])]})
        if self.text is not None:
            data.update({
                "text": self.text, "committed": self.committed, "fps": self.fps,
                "switches_per_second": None if self.switches_per_second is None else round(self.switches_per_second, 3),
            })
        return data


def expected_label(path: str, labels: Sequence[str]) -> str | None:
    """The class a file's folder name says it is (case-insensitive), when it is one of `labels`."""
    lookup = {name.lower(): name for name in labels}
    return lookup.get(Path(path).parent.name.lower())


def class_folders_first(folder: Path, labels: Sequence[str], limit: int) -> tuple[list[Path], list[str]] | None:
    """For `--limit N` on a dataset laid out one folder per class: the first N images spread
    over the folders named after the model's classes (so 40 Massey photos show 40 letters,
    not the digits the letter model does not know). None when the layout is not like that."""
    from fingerspell.infer.sources import _spread

    subfolders = [p for p in sorted(folder.iterdir()) if p.is_dir()]
    lookup = {name.lower() for name in labels}
    matching = [p for p in subfolders if p.name.lower() in lookup]
    if not matching:
        return None
    skipped = [p.name for p in subfolders if p.name.lower() not in lookup]
    images = [f for p in matching for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        return None
    return _spread(images, limit), skipped


def _default_report(source: Source, spec: Any) -> Path:
    from fingerspell.home import home

    stem = Path(str(spec)).stem if not isinstance(spec, int) else f"camera{spec}"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return home() / "predictions" / f"{stem or 'source'}-{stamp}.csv"


def _top5_text(top5: list[tuple[str, float]]) -> str:
    return " ".join(f"{name}:{p:.3f}" for name, p in top5)


def _box(p: Prediction) -> list[Any]:
    return [round(v, 1) for v in p.hand_box] if p.hand_box else ["", "", "", ""]


def _image_row(p: Prediction, expected: str | None) -> dict[str, Any]:
    return {
        "path": p.source, "letter": p.letter or "", "confidence": f"{p.confidence:.4f}", "expected": expected or "",
        "correct": "" if expected is None else int(p.letter == expected), "hand": int(p.hand),
        "handedness": p.handedness or "", "hand_score": "" if p.hand_score is None else f"{p.hand_score:.3f}",
        "hand_method": p.hand_method or "", **dict(zip(("box_xmin", "box_ymin", "box_xmax", "box_ymax"), _box(p))),
        "top5": _top5_text(p.top5), "ms_total": f"{p.timings.get('total', 0):.2f}",
        "ms_hands": f"{p.timings.get('hands', 0):.2f}", "error": p.error or "",
    }


def _frame_row(p: Prediction) -> dict[str, Any]:
    return {
        "frame": p.frame_index, "time": "" if p.timestamp is None else f"{p.timestamp:.4f}", "letter": p.letter or "",
        "confidence": f"{p.confidence:.4f}", "raw_letter": p.raw_letter or "", "hand": int(p.hand),
        **dict(zip(("box_xmin", "box_ymin", "box_xmax", "box_ymax"), _box(p))),
        "top5": _top5_text(p.top5), "text": p.text or "",
        "committed": "".join(c.letter if c.kind != "del" else "<del>" for c in p.commits),
        **{f"ms_{k}": f"{p.timings.get(k, 0):.3f}" for k in ("decode", "hands", "features", "model", "smoothing", "total")},
    }


class _VideoOut:
    """Annotated video writer; opened on the first frame (its size is known only then)."""

    def __init__(self, path: Path, fps: float):
        self.path = path
        self.fps = fps
        self.writer: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
            h, w = rgb.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), self.fps, (w, h))
            if not self.writer.isOpened():
                raise SourceError(f"{self.path}: cannot write a video here (use .mp4 or .avi)")
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def run_prediction(
    source: Any,
    model: str | Path | None = None,
    conf: float | None = None,
    classes: Sequence[str] | None = None,
    save: str | Path | None = None,
    as_json: bool = False,
    report: str | Path | None = None,
    limit: int | None = None,
    workers: int | None = None,
    out: TextIO | None = None,
    progress: bool = True,
    predictor: Predictor | None = None,
    complexity: int | None = None,
    test_views: bool = True,
    refine: bool = True,
    still: str | None = None,
) -> PredictSummary:
    """Predict over `source` and write lines / JSON records to `out` (stdout), a report and,
    with `save`, annotated images (a folder) or an annotated video. `complexity` overrides the
    bundle's MediaPipe hand model (0 lite and fast, 1 full); `test_views=False` looks at each
    still image once instead of through the bundle's extra test-time views; `refine=False` skips
    the bundle's landmark refinement (faster, a little less accurate); `still` picks the
    still-image path ("cascade", the default, "fast" or "full"; see `Predictor`). `conf` None =
    the bundle's default threshold. Returns the summary.

    Raises SourceError / CorruptImageError for a bad source, BundleError for a bad model.
    """
    out = out or sys.stdout
    predictor = predictor or Predictor(model, conf=conf, classes=classes, model_complexity=complexity,
                                         test_views=test_views, refine=refine, still=still)
    spec: Any = source
    if isinstance(source, str) and limit and Path(source).is_dir():
        chosen = class_folders_first(Path(source), predictor.labels, limit)
        if chosen is not None and chosen[1]:
            paths, skipped = chosen
            src: Source = ImageFilesSource(paths, "folder", f"folder {source} ({len(paths)} images)")
            if not as_json:
                print(f"{source}: {len(paths)} images from the folders named after the model's classes "
                      f"(skipping {', '.join(skipped)})", file=out)
        else:
            src = open_source(source, limit=limit)
    else:
        src = open_source(source, limit=limit)
    if src.is_stream:
        return _run_stream(predictor, src, spec, save, as_json, report, limit, out)
    return _run_images(predictor, src, spec, save, as_json, report, workers, out, progress)


def _run_images(predictor: Predictor, src: Source, spec: Any, save: Any, as_json: bool, report: Any,
                workers: int | None, out: TextIO, progress: bool) -> PredictSummary:
    from tqdm import tqdm

    count = src.size() or 0
    if workers is None:
        workers = default_workers(count)
    summary = PredictSummary(source=str(spec), kind=src.kind)
    save_dir = Path(save) if save else None
    single_file_save = save_dir is not None and count == 1 and save_dir.suffix.lower() in IMAGE_SUFFIXES
    totals: dict[str, float] = {}
    # Rows go to the report as they come: a run that dies part way keeps what it finished.
    writer: ReportWriter | None = None
    if report or src.kind in ("folder", "glob", "images"):
        writer = ReportWriter(Path(report) if report else _default_report(src, spec), CSV_IMAGE_COLUMNS)
        summary.report = str(writer.path)
    # The bar is for a person at a terminal; in logs (CI, pipes) the per-image lines suffice.
    bar = tqdm(total=count, unit="img", file=sys.stderr, leave=False, desc="predicting",
               disable=not progress or count < 2 or not sys.stderr.isatty())
    start = time.perf_counter()
    scored_probs: list[np.ndarray] = []
    scored_labels: list[str] = []

    def say(line: str) -> None:
        (bar.write(line, file=out) if not bar.disable else print(line, file=out))

    try:
        for p in predictor.predict(src, keep_image=save_dir is not None, workers=workers):
            expected = expected_label(p.source, predictor.labels)
            summary.items += 1
            summary.hands += int(p.hand)
            summary.letters += int(p.letter is not None)
            summary.errors += int(p.error is not None)
            summary.escalated += int(bool(p.escalated))
            if expected is not None:
                probs = p.probabilities if p.probabilities is not None else np.zeros(len(predictor.labels))
                scored_probs.append(np.asarray(probs, dtype=np.float64))
                scored_labels.append(expected)
                summary.labelled += 1
                summary.correct += int(p.letter == expected)
                if p.letter != expected:
                    key = (expected, p.letter or "-")
                    summary.confusions[key] = summary.confusions.get(key, 0) + 1
            for k, v in p.timings.items():
                totals[k] = totals.get(k, 0.0) + v
            if writer is not None:
                writer.write(_image_row(p, expected))
            if as_json:
                record = {"path": p.source, **p.to_dict()}
                record.pop("source", None)
                if expected is not None:
                    record["expected"] = expected
                say(json.dumps(record))
            else:
                say(_image_line(p, expected))
            if save_dir is not None and p.image is not None:
                target = save_dir if single_file_save else save_dir / (Path(p.source).stem + "_pred.jpg")
                target.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(target), cv2.cvtColor(p.draw(), cv2.COLOR_RGB2BGR))
            bar.update(1)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    summary.seconds = time.perf_counter() - start
    summary.mean_ms = {k: v / max(1, summary.items) for k, v in totals.items()}
    if scored_labels:
        from fingerspell.evaluate.still_metrics import label_indices, score_answers

        summary.score = score_answers(np.stack(scored_probs), label_indices(scored_labels, predictor.labels),
                                      predictor.labels, predictor.threshold)
    if save_dir is not None:
        summary.saved = str(save_dir)
    if as_json:
        print(json.dumps(summary.to_dict()), file=out)
    else:
        for line in _image_summary_lines(summary):
            print(line, file=out)
    return summary


def _image_line(p: Prediction, expected: str | None) -> str:
    name = Path(p.source).name if p.source else "<image>"
    if p.error:
        return f"{name}: error: {p.error}"
    if not p.hand:
        answer = "no hand found"
    elif p.letter is None:
        best = p.top5[0] if p.top5 else ("?", 0.0)
        answer = f"?  (best {best[0]} {best[1]:.2f} is below --conf)"
    else:
        others = ", ".join(f"{n} {q:.2f}" for n, q in p.top5[1:3])
        answer = f"{p.letter}  {p.confidence:.2f}" + (f"  (then {others})" if others else "")
    mark = ""
    if expected is not None:
        mark = "  ok" if p.letter == expected else f"  WRONG (folder says {expected})"
    return f"{name}: {answer}{mark}"


def _image_summary_lines(s: PredictSummary) -> list[str]:
    rate = s.items / s.seconds if s.seconds else 0.0
    lines = [f"{s.items} images: hand found in {s.hands}, letter given for {s.letters}"
             + (f", {s.errors} unreadable" if s.errors else "")
             + (f", full path for {s.escalated} uncertain ones" if s.escalated else "")
             + f" ({rate:.1f} images/s)"]
    if s.labelled:
        lines.append(f"accuracy against folder names: {s.correct}/{s.labelled} = {100 * (s.accuracy or 0):.1f}%"
                     " (no hand or below --conf counts as wrong)")
        if s.score is not None:
            lines.append(s.score.line())
        if s.confusions:
            worst = sorted(s.confusions.items(), key=lambda kv: -kv[1])[:5]
            lines.append("most common mistakes: " + ", ".join(
                f"{e} read as {'no letter' if said == '-' else said} x{n}" for (e, said), n in worst))
    if s.saved:
        lines.append(f"annotated images: {s.saved}")
    if s.report:
        lines.append(f"report: {s.report}")
    return lines


def _run_stream(predictor: Predictor, src: Source, spec: Any, save: Any, as_json: bool, report: Any,
                limit: int | None, out: TextIO) -> PredictSummary:
    fps = src.fps or 30.0
    writer = _VideoOut(Path(save), fps) if save else None
    summary = PredictSummary(source=str(spec), kind=src.kind, fps=fps)
    rows = ReportWriter(Path(report) if report else _default_report(src, spec), CSV_FRAME_COLUMNS)
    summary.report = str(rows.path)
    letters: list[str | None] = []
    totals: dict[str, float] = {}
    start = time.perf_counter()
    last: Prediction | None = None
    try:
        for p in predictor.predict(src, keep_image=writer is not None, limit=limit):
            last = p
            summary.items += 1
            summary.hands += int(p.hand)
            summary.letters += int(p.letter is not None)
            letters.append(p.letter)
            for k, v in p.timings.items():
                totals[k] = totals.get(k, 0.0) + v
            rows.write(_frame_row(p))
            if writer is not None:
                writer.write(p.draw())
                p.image = None
            if as_json:
                print(json.dumps(p.to_dict()), file=out)
            else:
                for c in p.commits:
                    shown = {"space": "(space)", "del": "(delete)"}.get(c.kind, c.letter)
                    when = f"{c.time:7.2f} s" if c.time is not None else f"frame {c.frame}"
                    kind = "  (double: bounce/slide)" if c.kind == "double" else ""
                    print(f"{when}  {shown}{kind}  -> {p.text}", file=out)
    finally:
        rows.close()
        if writer is not None:
            writer.close()
    summary.seconds = time.perf_counter() - start
    summary.mean_ms = {k: v / max(1, summary.items) for k, v in totals.items()}
    speller = predictor.last_speller
    summary.text = speller.text if speller is not None else (last.text if last else "")
    summary.committed = speller.letters() if speller is not None else []
    summary.switches_per_second = switches_per_second(letters, fps)
    if writer is not None:
        summary.saved = str(writer.path)
    if as_json:
        print(json.dumps(summary.to_dict()), file=out)
    else:
        rate = summary.items / summary.seconds if summary.seconds else 0.0
        print(f"{summary.items} frames ({summary.items / fps:.1f} s of {src.kind}), hand in {summary.hands}, "
              f"processed at {rate:.1f} frames/s", file=out)
        print(f"text: {summary.text!r}", file=out)
        if summary.committed:
            print("letters: " + ", ".join(f"{c['letter'] if c['letter'] != ' ' else '␣'}@{c['time']:.2f}s"
                                          if c["time"] is not None else c["letter"] for c in summary.committed), file=out)
        if summary.saved:
            print(f"annotated video: {summary.saved} ({writer.frames if writer else 0} frames)", file=out)
        print(f"per-frame report: {summary.report}", file=out)
    return summary
