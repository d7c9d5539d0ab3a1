"""One predictor for images, folders, globs, videos, cameras and arrays.

    from fingerspell.infer import Predictor
    for p in Predictor().predict("photos/"):          # the bundled default model
        print(p.source, p.letter, p.confidence)

Pipeline per frame: decode -> hands (MediaPipe) -> features (landmark bundles) or crop
(image bundles) -> model (onnxruntime) -> smoothing + spelling (video and camera only).
Every stage is timed into `Prediction.timings` (milliseconds).

The inference path never imports torch: a bundle is ONNX + JSON, run by onnxruntime on the CPU.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fingerspell.errors import BundleError, FingerspellError
from fingerspell.export.bundle import Bundle, check_model_matches
from fingerspell.infer.sources import Frame, Source, load_image_frame, open_source
from fingerspell.infer.prediction import Prediction

STAGES = ("decode", "hands", "features", "model", "smoothing", "total")
# Margin around the detected hand box for image bundles that crop the hand, as a fraction of
# the box's longer side on each side (kept in the manifest as input.margin when the export set it).
DEFAULT_CROP_MARGIN = 0.2


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max()
    e = np.exp(z)
    return e / e.sum()


def _is_probabilities(values: np.ndarray) -> bool:
    return bool(values.min() >= 0.0 and abs(float(values.sum()) - 1.0) < 1e-3)


class Predictor:
    """Recognise letters with a bundle (ONNX model + manifest).

    bundle: a bundle folder, a loaded `Bundle`, or None for the default shipped in the package.
    conf: a letter below this probability is reported as None; None = the bundle's default
        (bundle.json "still.threshold" for still images, 0.5 without it; the spelling rules'
        own threshold for streams).
    classes: keep only these classes (others are masked out and the rest renormalised).
    mode: "auto" (tracking for video / camera, still-image detection otherwise), "image" or
        "video" to force one hand-detector mode for every source.
    threads: onnxruntime intra-op threads (default 1: the models are small; a second thread
        only adds synchronisation, and MediaPipe runs on the other core).
    spelling: overrides of the bundle's spelling parameters for streams (`Spelling`; the
        letter threshold is `conf` unless given here).
    model_complexity / robust: override the bundle's hand-detector settings for every mode
        (0 = MediaPipe's lite hand model, about twice as fast in tracking mode, a little less
        accurate). Without an override, video uses the bundle's `tracking_model_complexity`
        when it has one.
    test_views: for still images of a landmark bundle, also look at the image through the
        bundle's `test_time_views` (single hand-detector attempts such as a mirrored copy
        with a border) and average the model's probabilities over every hand found: the mean
        of a few landmark estimates is measured to be more accurate on unseen signers and
        photos. Costs one detector run per view; False = the robust detection alone. Video
        and camera frames always use one detection.
    refine: for still images, refit a found hand as the bundle says (`hands.refine_steps`
        passes through MediaPipe's tracking graph). False skips it: about 1.5x faster per
        image, a point or two less accurate (the default model was trained on refined hands).
    still: how a still image of a landmark bundle is read: "cascade" (the default: the fast
        path first, the full path only when the fast answer's calibrated probability is under
        the bundle's `still.escalate_below`; see `infer.cascade`), "fast" (one detection, no
        refinement, no views: never escalates) or "full" (refinement + test-time views for
        every image). None = "cascade" unless `test_views` or `refine` is False, which then
        fix one path as they say.

    Raises BundleError for a missing or invalid bundle, FingerspellError for an unknown class.
    """

    def __init__(
        self,
        bundle: str | Path | Bundle | None = None,
        conf: float | None = None,
        classes: Sequence[str] | None = None,
        mode: str = "auto",
        threads: int | None = None,
        spelling: dict[str, Any] | None = None,
        model_complexity: int | None = None,
        robust: bool | None = None,
        test_views: bool = True,
        refine: bool = True,
        still: str | None = None,
    ):
        if mode not in ("auto", "image", "video"):
            raise FingerspellError(f"unknown predictor mode {mode!r}: use auto, image or video")
        if conf is not None and not 0.0 <= conf <= 1.0:
            raise FingerspellError(f"--conf must be between 0 and 1, got {conf}")
        if still not in (None, "cascade", "fast", "full"):
            raise FingerspellError(f"unknown still-image path {still!r}: use cascade, fast or full")
        if still is not None:
            test_views = refine = still != "fast"
        if bundle is None:
            from fingerspell.home import default_bundle_dir

            bundle = default_bundle_dir()
            if not (Path(bundle) / "bundle.json").is_file():
                raise BundleError(f"{bundle}: the default model bundle is not installed (pass --model BUNDLE)")
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle)
        self.labels = list(self.bundle.labels)
        self.conf = None if conf is None else float(conf)
        self.mode = mode
        self.threads = threads or 1
        self.spelling_options = dict(spelling or {})
        # The last video or camera stream's spelling and frame rate (set by spell_stream), so a
        # caller that stops a stream early can still read the text.
        self.last_speller: Any = None
        self.last_fps: float | None = None
        self.temperature = self.bundle.temperature  # calibration: softmax(logits / T)
        self.still_params = self.bundle.still  # still images: cascade bar, temperatures, threshold
        hands = self.bundle.hands
        self.model_complexity = hands.model_complexity if model_complexity is None else model_complexity
        # Tracking may use its own (usually lighter) hand model when the bundle says so.
        tracking = hands.tracking_model_complexity if hands.tracking_model_complexity is not None else hands.model_complexity
        self.tracking_model_complexity = tracking if model_complexity is None else model_complexity
        if self.model_complexity not in (0, 1):
            raise FingerspellError(f"hand model complexity must be 0 or 1, got {self.model_complexity!r}")
        self.robust = self.bundle.hands.robust if robust is None else robust
        self.test_views = bool(test_views)
        self.refine = bool(refine)
        self.refine_steps = self.bundle.hands.refine_steps if self.refine else 0
        views = self.bundle.extra.get("test_time_views", [])
        if not isinstance(views, list) or not all(isinstance(v, str) for v in views):
            raise BundleError(f"{self.bundle.manifest_path}: 'test_time_views' must be a list of attempt names")
        self.views: list[str] = list(views) if self.test_views and self.bundle.input.kind == "landmarks" else []
        self._mask: np.ndarray | None = None
        self.classes: list[str] | None = None
        if classes:
            lookup = {name.lower(): name for name in self.labels}
            chosen = []
            for name in classes:
                key = str(name).strip().lower()
                if key not in lookup:
                    raise FingerspellError(
                        f"class {name!r} is not in the model's labels ({', '.join(self.labels)})"
                    )
                chosen.append(lookup[key])
            self.classes = chosen
            self._mask = np.array([name in chosen for name in self.labels], dtype=bool)
        self._session = self._open_session()
        self._input_name = self._session.get_inputs()[0].name
        self._detectors: dict[str, Any] = {}
        for view in self.views:  # an unknown attempt name is the bundle's fault: say so now
            try:
                self.view_detector(view)
            except FingerspellError as exc:
                raise BundleError(f"{self.bundle.manifest_path}: test_time_views: {exc}") from None
        self.still = still or ("cascade" if self.test_views and self.refine else "fixed")
        if self.still == "cascade" and not self.views:  # nothing to escalate to: one path
            self.still = "fixed"
        self._features = None
        if self.bundle.input.kind == "landmarks":
            self._features = self._load_features()

    # ---- set-up -----------------------------------------------------------------------------
    def _open_session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(self.bundle.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise BundleError(f"{self.bundle.model_path}: onnxruntime cannot load the model ({exc})") from None
        check_model_matches(self.bundle, session)
        return session

    def _load_features(self) -> Any:
        from fingerspell.hands import features as features_module

        wanted = self.bundle.input.features
        have = getattr(features_module, "FEATURES_VERSION", None)
        if wanted != have:
            raise BundleError(
                f"{self.bundle.manifest_path}: model wants landmark features {wanted!r}, "
                f"this fingerspell computes {have!r} (re-export the model)"
            )
        return features_module.landmark_features

    @property
    def threshold(self) -> float:
        """The smallest probability a still image's letter needs: `conf`, else the bundle's."""
        return self.conf if self.conf is not None else self.still_params.threshold

    def detector(self, mode: str, refine: bool | None = None) -> Any:
        """The hand detector for "image" or "video" mode, made on first use; `refine=False`
        gives the still-image detector without landmark refinement (the fast path)."""
        fast = mode == "image" and refine is False and self.refine_steps
        key = f"{mode}:fast" if fast else mode
        if key not in self._detectors:
            from fingerspell.hands import HandDetector

            settings = self._detector_settings()
            if fast:
                settings["refine_steps"] = 0
            self._detectors[key] = HandDetector(
                mode=mode,
                model_complexity=self.tracking_model_complexity if mode == "video" else self.model_complexity,
                robust=self.robust,
                **settings,
            )
        return self._detectors[key]

    def view_detector(self, view: str) -> Any:
        """A still-image detector that makes only the one attempt `view` (e.g. "flip-pad50-low")."""
        key = f"view:{view}"
        if key not in self._detectors:
            from fingerspell.hands import HandDetector

            self._detectors[key] = HandDetector(
                mode="image", model_complexity=self.model_complexity, attempts=[view], **self._detector_settings(),
            )
        return self._detectors[key]

    def _detector_settings(self) -> dict[str, Any]:
        """What every detector of this predictor shares with the bundle's training landmarks."""
        return {"min_detection_confidence": self.bundle.hands.min_detection_confidence,
                "refine_steps": self.refine_steps, "tint_grey": self.bundle.hands.tint_grey,
                "zoom": self.bundle.hands.zoom}

    def close(self) -> None:
        for detector in self._detectors.values():
            detector.close()
        self._detectors.clear()

    def __enter__(self) -> "Predictor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def reset_stream(self) -> None:
        """Forget tracking state (call between unrelated videos when mode='video')."""
        if "video" in self._detectors:
            self._detectors.pop("video").close()

    # ---- the model alone --------------------------------------------------------------------
    def run_model(self, batch: np.ndarray) -> np.ndarray:
        """Run the ONNX model on a prepared float32 batch; returns logits [N, classes]."""
        return self._session.run(None, {self._input_name: batch})[0]

    def probabilities(self, logits: np.ndarray, temperature: float | None = None) -> np.ndarray:
        """Calibrated softmax(logits / T) (unless the model outputs probabilities already) with
        the class filter applied; T = `temperature`, else the bundle's calibration."""
        values = np.asarray(logits, dtype=np.float64).reshape(-1)
        t = self.temperature if temperature is None else temperature
        probs = values if _is_probabilities(values) else _softmax(values / t)
        if self._mask is not None:
            probs = np.where(self._mask, probs, 0.0)
            total = probs.sum()
            probs = probs / total if total > 0 else probs
        return probs

    def _with_views(self, rgb: np.ndarray, probs: np.ndarray, timings: dict[str, float],
                    temperature: float | None) -> np.ndarray:
        """Mean of `probs` and the probabilities of every test-time view that finds a hand."""
        height, width = rgb.shape[:2]
        total, count = probs.copy(), 1
        for view in self.views:
            t = time.perf_counter()
            other = self.view_detector(view).detect(rgb)
            timings["hands"] += (time.perf_counter() - t) * 1000
            if other is not None:
                t = time.perf_counter()
                total += self.probabilities(self.run_model(self._landmark_input(other, width, height)), temperature)
                count += 1
                timings["model"] += (time.perf_counter() - t) * 1000
        return total / count

    # ---- inputs -----------------------------------------------------------------------------
    def _landmark_input(self, hand: Any, width: int, height: int) -> np.ndarray:
        vector = np.asarray(self._features(hand.landmarks, hand.handedness, (width, height)), dtype=np.float32)
        return vector.reshape(1, -1)

    def _image_input(self, rgb: np.ndarray, hand: Any | None) -> np.ndarray:
        spec = self.bundle.input
        height, width = rgb.shape[:2]
        if spec.crop == "hand" and hand is not None:
            x0, y0, x1, y1 = hand.box
            margin = float(self.bundle.extra.get("crop_margin", DEFAULT_CROP_MARGIN))
            side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        else:
            side = min(width, height)
            cx, cy = width / 2, height / 2
        side = max(side, 8.0)
        out_h, out_w = spec.size
        # One affine warp crops, pads (black outside the image) and resizes in one step.
        sx, sy = out_w / side, out_h / side
        matrix = np.array([[sx, 0, out_w / 2 - sx * cx], [0, sy, out_h / 2 - sy * cy]], dtype=np.float64)
        crop = cv2.warpAffine(rgb, matrix, (out_w, out_h), flags=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        if spec.channels == 1:
            pixels = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)[None] / 255.0
        else:
            pixels = crop.astype(np.float32).transpose(2, 0, 1) / 255.0
        norm = self.bundle.normalisation or {"mean": [0.0], "std": [1.0]}
        mean = np.asarray(norm["mean"], dtype=np.float32).reshape(-1, 1, 1)
        std = np.asarray(norm["std"], dtype=np.float32).reshape(-1, 1, 1)
        return ((pixels - mean) / std)[None].astype(np.float32)

    # ---- one frame --------------------------------------------------------------------------
    def predict_frame(self, frame: Frame, mode: str = "image", keep_image: bool = False,
                      views: bool = True) -> Prediction:
        """Recognise the letter in one frame with the given hand-detector mode (no smoothing).

        views: in "image" mode, read a still image as `still` says (the cascade, or the fast or
            full path); streams pass False (a frame of a stream gets one detection).
        """
        if mode != "image" or not views:
            # A stream's frame (or one detection asked for): the letter threshold of streams.
            stream = self.conf if self.conf is not None else self.bundle.spelling.threshold
            return self.predict_once(frame, mode, keep_image, views=False, refine=self.refine, temperature=None,
                                     threshold=stream)
        if self.still == "cascade":
            from fingerspell.infer.cascade import cascade_frame

            return cascade_frame(self, frame, keep_image)
        if self.still == "fast":
            return self.predict_once(frame, mode, keep_image, views=False, refine=False,
                                     temperature=self.still_params.temperature_fast)
        # "full", or one path fixed by test_views / refine: the still temperature belongs to the
        # averaged views; a single refined detection keeps the bundle's calibration.
        return self.predict_once(frame, mode, keep_image, views=True, refine=self.refine,
                                 temperature=self.still_params.temperature_full if self.views else None)

    def predict_once(self, frame: Frame, mode: str, keep_image: bool, views: bool, refine: bool,
                     temperature: float | None, threshold: float | None = None) -> Prediction:
        """One path through detection and the model: `refine` False skips landmark refinement,
        `views` adds the test-time views (image mode), `temperature` calibrates (None = the
        bundle's calibration), `threshold` is the letter's (None = `self.threshold`)."""
        cut = self.threshold if threshold is None else threshold
        start = time.perf_counter()
        timings = {stage: 0.0 for stage in STAGES}
        timings["decode"] = frame.decode_ms
        if frame.image is None:
            timings["total"] = frame.decode_ms
            return Prediction(frame.source, frame.index, frame.timestamp, None, 0.0, [], timings=timings,
                              error=frame.error or "no image")
        rgb = frame.image
        height, width = rgb.shape[:2]
        hand = None
        needs_hand = not (self.bundle.input.kind == "image" and self.bundle.input.crop == "center")
        if needs_hand:
            t = time.perf_counter()
            hand = self.detector(mode, refine=refine).detect(rgb)
            timings["hands"] = (time.perf_counter() - t) * 1000
        probs = None
        if hand is not None or not needs_hand:
            t = time.perf_counter()
            if self.bundle.input.kind == "landmarks":
                batch = self._landmark_input(hand, width, height)
            else:
                batch = self._image_input(rgb, hand)
            timings["features"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            logits = self.run_model(batch)
            probs = self.probabilities(logits, temperature)
            timings["model"] = (time.perf_counter() - t) * 1000
            if hand is not None and mode == "image" and views and self.views:
                probs = self._with_views(rgb, probs, timings, temperature)
        top5: list[tuple[str, float]] = []
        letter, confidence = None, 0.0
        if probs is not None:
            order = np.argsort(-probs)[:5]
            top5 = [(self.labels[i], float(probs[i])) for i in order if probs[i] > 0 or self._mask is None]
            if probs[order[0]] >= cut:
                letter, confidence = self.labels[order[0]], float(probs[order[0]])
        timings["total"] = frame.decode_ms + (time.perf_counter() - start) * 1000
        return Prediction(
            source=frame.source,
            frame_index=frame.index,
            timestamp=frame.timestamp,
            letter=letter,
            confidence=confidence,
            top5=top5,
            raw_letter=letter,
            hand_box=None if hand is None else tuple(float(v) for v in hand.box),
            landmarks=None if hand is None else hand.landmarks,
            handedness=None if hand is None else hand.handedness,
            hand_score=None if hand is None else float(hand.score),
            hand_method=None if hand is None else hand.method,
            image_size=(width, height),
            timings=timings,
            probabilities=probs,
            image=rgb if keep_image else None,
        )

    def predict_image(self, image: np.ndarray) -> Prediction:
        """One in-memory RGB image (still-image detection)."""
        return next(iter(self.predict(image)))

    # ---- streams ----------------------------------------------------------------------------
    def predict(
        self,
        source: Any,
        keep_image: bool = False,
        limit: int | None = None,
        workers: int | None = 1,
    ) -> Iterator[Prediction]:
        """Stream predictions for a source (see `sources.open_source` for what it accepts).

        Video files and cameras are tracked, smoothed and spelled (each Prediction carries
        the text so far); still images are recognised one by one. `workers` > 1 spreads a
        folder over that many processes (each with its own hand detector), in order; they are
        started with "spawn", so a script using it needs the `if __name__ == "__main__":` guard.

        Raises SourceError / CorruptImageError when the source cannot be opened.
        """
        src = source if isinstance(source, Source) else open_source(source, limit=limit)
        if src.is_stream:
            yield from self._predict_stream(src, keep_image, limit)
            return
        count = src.size() or 0
        if workers and workers > 1 and count >= 2 * workers and hasattr(src, "paths"):
            yield from self._predict_parallel(src.paths, workers, keep_image)
            return
        mode = "video" if self.mode == "video" else "image"
        for frame in src:
            yield self.predict_frame(frame, mode=mode, keep_image=keep_image)

    def _predict_stream(self, src: Source, keep_image: bool, limit: int | None) -> Iterator[Prediction]:
        from fingerspell.infer.spelling_stream import spell_stream

        yield from spell_stream(self, src, keep_image, limit)

    def _predict_parallel(self, paths: list[Path], workers: int, keep_image: bool) -> Iterator[Prediction]:
        import multiprocessing as mp

        # Spawn, not fork: MediaPipe's graph threads do not survive a fork of a process that
        # has already started them. (Forking a fresh process was measured too: it saves start-up
        # but not CPU per image, because one MediaPipe graph already runs on 4 threads.)
        context = mp.get_context("spawn")
        settings = {
            "bundle": str(self.bundle.path),
            "conf": self.conf,
            "classes": self.classes,
            "mode": "image",
            "model_complexity": self.model_complexity,
            "robust": self.robust,
            "test_views": self.test_views,
            "refine": self.refine,
            "still": None if self.still == "fixed" else self.still,
        }
        jobs = [(str(p), i, keep_image) for i, p in enumerate(paths)]
        with context.Pool(workers, initializer=_worker_init, initargs=(settings,)) as pool:
            yield from pool.imap(_worker_predict, jobs, chunksize=4)


# Worker-process state for folder predictions (one Predictor per process).
_WORKER: Predictor | None = None


def _worker_init(settings: dict[str, Any]) -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = Predictor(**settings)


def _worker_predict(job: tuple[str, int, bool]) -> Prediction:
    path, index, keep_image = job
    if _WORKER is None:  # pragma: no cover - initializer always runs first
        raise FingerspellError("worker not initialised")
    frame = load_image_frame(Path(path), index)
    prediction = _WORKER.predict_frame(frame, mode="image", keep_image=keep_image)
    return prediction  # probabilities included: a folder's summary scores them
