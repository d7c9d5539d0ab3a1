"""Hand landmarks for a whole dataset, cached in its index's `landmarks` table.

`extract_landmarks(dataset)` runs `HandDetector` over every sample whose row in `landmarks`
is missing or stale - computed from other image bytes (`hash`) or with other detector
settings (`settings`) - and writes the answers in batches (64 rows or 2 seconds), each
committed, so an interrupted or killed run keeps what it did and the next run picks up the
rest. A sample with a hand box (the asl-letters annotations) passes it as a hint to the
detector; the box is part of the cache key too, so deleting or changing a box re-runs that
sample. An image too large to decode (ImageTooLargeError, from its header) is recorded as
unreadable, like a corrupt one.

`load_landmarks(dataset)` reads the table back for training and evaluation.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import FingerspellError
from fingerspell.hands.detector import REFINE_STEPS, ZOOM

# Classes whose images show no hand (asl-alphabet's `nothing`): not counted in found rates.
NO_HAND_CLASSES = frozenset({"nothing"})
# Detector settings used when the caller gives none: the most accurate static-image setup.
DEFAULT_DETECTOR_SETTINGS: dict[str, Any] = {"model_complexity": 1, "min_detection_confidence": 0.5, "robust": True,
                                             "refine_steps": REFINE_STEPS, "tint_grey": True, "zoom": ZOOM}
# Below this many samples to do, worker processes cost more to start than they save.
MIN_SAMPLES_FOR_WORKERS = 200
# Finished rows are committed at least this often (seconds), whatever the batch size.
FLUSH_SECONDS = 2.0


class HandExtractionWarning(UserWarning):
    """A sample could not be read; it is recorded as `no hand found` and extraction goes on."""


@dataclass
class LandmarkRow:
    """One sample's cached detection."""

    sample_id: int
    found: bool
    handedness: str | None
    score: float | None
    points: np.ndarray | None          # float32 [21, 3], x, y normalised to the image
    world: np.ndarray | None           # float32 [21, 3] metres, or None
    box: tuple[float, float, float, float] | None  # pixels
    method: str | None
    settings: str | None = None


@dataclass
class ExtractStats:
    """What `extract_landmarks` did, and the found rate of the whole dataset afterwards."""

    dataset: str
    settings: str
    total: int = 0            # samples in the dataset (not removed)
    computed: int = 0         # detected in this run
    cached: int = 0           # up to date already
    found: int = 0            # samples with a hand found (classes that show a hand)
    with_hand: int = 0        # samples of classes that show a hand
    errors: list[str] = field(default_factory=list)     # unreadable samples, one line each
    per_label: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> (found, samples)
    methods: dict[str, int] = field(default_factory=dict)  # attempt -> hands it found
    seconds: float = 0.0
    skipped: str | None = None  # why nothing was run (landmark-only dataset)

    @property
    def rate(self) -> float:
        return self.found / self.with_hand if self.with_hand else 0.0

    @property
    def images_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0

    def worst_letters(self, n: int = 5) -> list[tuple[str, float, int, int]]:
        """(label, rate, found, samples) for the n labels with the lowest found rate."""
        rows = [(label, f / t if t else 0.0, f, t) for label, (f, t) in self.per_label.items()
                if label not in NO_HAND_CLASSES]
        return sorted(rows, key=lambda r: (r[1], r[0]))[:n]


def settings_key(detector_settings: dict[str, Any] | None = None) -> str:
    """The cache key of a detector configuration (what `HandDetector.settings_key` returns)."""
    from fingerspell.hands.detector import HandDetector

    settings = {**DEFAULT_DETECTOR_SETTINGS, **(detector_settings or {})}
    if settings.get("mode", "image") != "image":
        raise FingerspellError("landmark extraction runs the detector in image mode; do not pass mode='video'")
    # Building a detector only parses settings; MediaPipe starts on the first detect call.
    detector = HandDetector(**settings)
    key = detector.settings_key
    detector.close()
    return key


def _sample_key(sample: Sample) -> str | None:
    """What the cached row must have been computed from: the bytes' hash, plus the hint box."""
    if not sample.boxes:
        return sample.hash
    box = sample.boxes[0]
    return f"{sample.hash}#box={box.xmin:.1f},{box.ymin:.1f},{box.xmax:.1f},{box.ymax:.1f}"


def _hint(sample: Sample) -> tuple[float, float, float, float] | None:
    if not sample.boxes:
        return None
    box = sample.boxes[0]
    return (box.xmin, box.ymin, box.xmax, box.ymax)


# ---- the work of one sample (in this process or in a worker) -----------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(settings: dict[str, Any]) -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")  # silence MediaPipe's start-up chatter
    from fingerspell.hands.detector import HandDetector

    _WORKER["detector"] = HandDetector(**settings)


def _detect_job(job: tuple[int, str, str | None, bytes | None, int | None, int | None, Any]) -> tuple:
    """(sample id, where, path, pixels, width, height, hint) -> a `landmarks` row tuple + error."""
    from fingerspell.data.images import decode_pixels, read_image
    from fingerspell.errors import CorruptImageError

    sample_id, where, path, pixels, width, height, hint = job
    try:
        image = decode_pixels(pixels, width, height, where=where) if path is None else read_image(path)
    except CorruptImageError as exc:
        return (sample_id, False, None, None, None, None, None, "unreadable", str(exc))
    hand = _WORKER["detector"].detect(image, hint_box=hint)
    if hand is None:
        return (sample_id, False, None, None, None, None, None, None, None)
    world = None if hand.world_landmarks is None else hand.world_landmarks.astype(np.float32).tobytes()
    return (sample_id, True, hand.handedness, float(hand.score), hand.landmarks.astype(np.float32).tobytes(),
            world, json.dumps([round(v, 2) for v in hand.box]), hand.method, None)


def _jobs(dataset: Dataset, samples: Sequence[Sample]) -> list[tuple]:
    """Everything a worker needs per sample, read here: pool.imap feeds jobs from another
    thread, and a SQLite connection may only be used by the thread that opened it."""
    jobs = []
    for sample in samples:
        if sample.row is not None:  # pixel rows (Sign-MNIST) live in the index itself
            blob = dataset.db.execute("SELECT pixels FROM samples WHERE id = ?", (sample.id,)).fetchone()[0]
            jobs.append((sample.id, sample.where, None, blob, sample.width, sample.height, _hint(sample)))
        else:
            jobs.append((sample.id, sample.where, str(dataset.file_path(sample)), None, None, None, _hint(sample)))
    return jobs


# ---- public API ----------------------------------------------------------------------------------
def extract_landmarks(
    dataset: Dataset | str,
    progress: bool = True,
    force: bool = False,
    detector_settings: dict[str, Any] | None = None,
    *,
    workers: int | None = None,
    batch_size: int = 64,
) -> ExtractStats:
    """Detect hands in every sample of `dataset` that has no up-to-date row in `landmarks`.

    dataset: a Dataset or its name. progress: show a tqdm bar. force: re-run every sample.
    detector_settings: HandDetector keyword arguments (default DEFAULT_DETECTOR_SETTINGS);
        they are part of the cache key, so changing them re-runs everything once.
    workers: processes, each with its own MediaPipe (default: 2 on a machine with 2+ cores
        when there are many samples to do, else 1 in this process).

    Unreadable images are recorded as `no hand` (method "unreadable") with a
    HandExtractionWarning naming the file. Landmark-only datasets are left as imported.
    Raises DatasetNotFoundError for an unknown name, FingerspellError for bad settings.
    KeyboardInterrupt stops the run; batches written so far stay.
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    settings = {**DEFAULT_DETECTOR_SETTINGS, **(detector_settings or {})}
    key = settings_key(settings)
    stats = ExtractStats(dataset=ds.name, settings=key)
    start = time.perf_counter()
    if not ds.has_images:
        stats.skipped = "landmark dataset: its landmarks were imported with it"
        _fill_summary(ds, stats)
        return stats

    existing = {row[0]: (row[1], row[2]) for row in ds.db.execute("SELECT sample_id, hash, settings FROM landmarks")}
    samples = list(ds.samples())
    todo = [s for s in samples if force or existing.get(s.id) != (_sample_key(s), key)]
    stats.cached = len(samples) - len(todo)
    if todo:
        _run(ds, todo, settings, key, stats, progress, workers, batch_size)
    stats.seconds = time.perf_counter() - start
    _fill_summary(ds, stats)
    return stats


def _run(ds: Dataset, todo: list[Sample], settings: dict[str, Any], key: str, stats: ExtractStats,
         progress: bool, workers: int | None, batch_size: int) -> None:
    from tqdm import tqdm

    if workers is None:
        workers = 2 if (os.cpu_count() or 1) >= 2 and len(todo) >= MIN_SAMPLES_FOR_WORKERS else 1
    keys = {s.id: _sample_key(s) for s in todo}
    bar = tqdm(total=len(todo), desc=f"landmarks {ds.name}", unit="img", disable=not progress, dynamic_ncols=True)
    pending: list[tuple] = []
    last_flush = [time.monotonic()]

    def flush() -> None:
        with ds.db:  # one transaction per batch: an interrupt loses at most the batch in flight
            ds.db.executemany(
                "INSERT OR REPLACE INTO landmarks(sample_id, hash, settings, found, handedness, score, points, world,"
                " box, method) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(r[0], keys[r[0]], key, int(r[1]), *r[2:8]) for r in pending],
            )
        pending.clear()
        last_flush[0] = time.monotonic()

    def take(result: tuple) -> None:
        if result[8]:
            stats.errors.append(result[8])
            warnings.warn(f"{result[8]}; recorded as no hand found", HandExtractionWarning, stacklevel=4)
        pending.append(result)
        stats.computed += 1
        bar.update(1)
        # Also by time: with slow images a batch of 64 takes minutes, and a run that dies
        # (killed, or native code aborting) should keep what it finished.
        if len(pending) >= batch_size or time.monotonic() - last_flush[0] >= FLUSH_SECONDS:
            flush()

    jobs = _jobs(ds, todo)
    try:
        if workers > 1:
            # spawn, not fork: a forked MediaPipe (or SQLite handle) from the parent is unsafe.
            with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
                for result in pool.imap(_detect_job, jobs, chunksize=4):
                    take(result)
        else:
            _init_worker(settings)
            try:
                for job in jobs:
                    take(_detect_job(job))
            finally:
                _WORKER.pop("detector").close()
    finally:
        if pending:
            flush()
        bar.close()


def _fill_summary(ds: Dataset, stats: ExtractStats) -> None:
    """Found rate per label over the whole dataset, from the table (cached rows included)."""
    per_label: dict[str, list[int]] = {}
    methods: dict[str, int] = {}
    rows = ds.db.execute(
        "SELECT s.label, l.found, l.method FROM samples s LEFT JOIN landmarks l ON l.sample_id = s.id"
        " WHERE s.removed = 0"
    )
    for label, found, method in rows:
        entry = per_label.setdefault(label, [0, 0])
        entry[0] += int(bool(found))
        entry[1] += 1
        if found:
            methods[method or "?"] = methods.get(method or "?", 0) + 1
    stats.per_label = {k: (v[0], v[1]) for k, v in sorted(per_label.items())}
    stats.total = sum(v[1] for v in per_label.values())
    stats.with_hand = sum(v[1] for k, v in per_label.items() if k not in NO_HAND_CLASSES)
    stats.found = sum(v[0] for k, v in per_label.items() if k not in NO_HAND_CLASSES)
    stats.methods = dict(sorted(methods.items(), key=lambda kv: -kv[1]))


def load_landmarks(dataset: Dataset | str, include_stale: bool = False) -> dict[int, LandmarkRow]:
    """{sample_id: LandmarkRow} for the dataset's samples (removed ones left out).

    Rows computed from other image bytes or another hint box than the sample has now are
    stale and left out unless include_stale; run `extract_landmarks` to refresh them.
    Raises DatasetNotFoundError for an unknown name.
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    current = {s.id: _sample_key(s) for s in ds.samples()}
    out: dict[int, LandmarkRow] = {}
    for row in ds.db.execute(
        "SELECT sample_id, hash, settings, found, handedness, score, points, world, box, method FROM landmarks"
    ):
        sample_id = row[0]
        if sample_id not in current:
            continue
        # Imported landmark rows carry the sample hash as is; detected rows our sample key.
        if not include_stale and row[1] != current[sample_id] and row[2] != "dataset":
            continue
        points = None if row[6] is None else np.frombuffer(row[6], dtype=np.float32).reshape(21, 3).copy()
        world = None if row[7] is None else np.frombuffer(row[7], dtype=np.float32).reshape(21, 3).copy()
        box = None if row[8] is None else tuple(float(v) for v in json.loads(row[8]))
        out[sample_id] = LandmarkRow(
            sample_id=sample_id, found=bool(row[3]), handedness=row[4], score=row[5], points=points,
            world=world, box=box, method=row[9], settings=row[2],  # type: ignore[arg-type]
        )
    return out


def extraction_settings(dataset: Dataset | str, sample_ids: Sequence[int] | None = None) -> dict[str, Any] | None:
    """The `HandDetector.settings` the dataset's found hands were extracted with, or None.

    sample_ids: only these samples' rows (default: every row). None comes back when no
    found hand was detected here (a landmark dataset's rows were imported with it, and no
    one knows its detector). Rows left by an interrupted run with other settings are
    outvoted: the settings of most found hands win, ties to the first in key order.
    Raises DatasetNotFoundError for an unknown name.
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    wanted = None if sample_ids is None else set(int(i) for i in sample_ids)
    counts: dict[str, int] = {}
    for sample_id, key in ds.db.execute("SELECT sample_id, settings FROM landmarks WHERE found = 1"):
        if key == "dataset" or (wanted is not None and sample_id not in wanted):
            continue
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda k: counts[k])
    try:
        settings = json.loads(best)
    except ValueError:
        return None  # not a detector's key (a future import marker): nothing to record
    return settings if isinstance(settings, dict) else None
