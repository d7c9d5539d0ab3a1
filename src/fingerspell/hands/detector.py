"""Find one hand in an image and return its 21 MediaPipe landmarks, robustly.

MediaPipe's legacy `Hands` (models bundled in the wheel, so it runs offline) finds a palm
first and then fits 21 landmarks inside a box around it. Its palm detector was trained on
hands that are a modest part of the frame, so it often misses a hand that *fills* the image
(Massey's tightly cropped hands on black: about a third are missed) or one that is tiny
(Sign-MNIST's 28x28 images). `HandDetector(robust=True)` therefore retries a miss with a few
cheap transformations of the image - a border so the hand no longer fills the frame, other
scales, a crop around a known hand box, a mirrored copy, a lower detection threshold - in the
order of what `bench/bench_hands.py` measured to help most for least time, and stops at the
first attempt that finds a plausible hand.

Every attempt is an affine map from the original image to the image MediaPipe sees, so one
inverse map brings landmarks back: `Hand.landmarks` are always normalised to the ORIGINAL
image, and a mirrored attempt swaps handedness back, so callers never see which attempt
found the hand except through `Hand.method`.

Two more steps make the landmarks themselves better (measured on asl-letters grouped by source
photo, see the README): a grey photo is tinted towards skin tones before any attempt (the
palm and landmark models were trained on colour: on asl-letters' 183 greyscale copies the plain
attempt found 46 hands untinted, 93 tinted), and a found hand is *refined*: the same view goes
through MediaPipe's tracking graph twice more, which fits the landmarks again inside a box
built from the previous fit (tighter and better aligned than the palm detector's box).
The same mechanism finds hands in images too small for the palm detector (Sign-MNIST's 28x28
crops): the `whole` attempt shows the tracking graph a packaged reference hand first, so the
landmark model looks at a box covering the whole image (see SMALL_ATTEMPTS).

The attempts and their chains are in `hands/attempts.py`, the image preparation (grey tint,
gamma, contrast, the reference hand) in `hands/image_prep.py`; this module runs them.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hands.attempts import (
    DEFAULT_ATTEMPTS, FAST_ATTEMPTS, LOW_CONFIDENCE, SMALL_ATTEMPTS, SMALL_SIDE, VERY_LOW_CONFIDENCE, WHOLE_SIDE, Attempt,
    parse_attempt, view_transform, warp_view,
)
from fingerspell.hands.image_prep import BLANK, as_rgb, clahe, gamma_table, is_grey, prior_hand, tint_grey

# The attempt chains and image helpers live in attempts.py and image_prep.py; these names are
# imported from here by the tests and bench scripts.
__all__ = [
    "DEFAULT_ATTEMPTS", "FAST_ATTEMPTS", "REFINE_STEPS", "SMALL_ATTEMPTS", "SMALL_SIDE", "WHOLE_SIDE", "ZOOM",
    "Hand", "HandDetector", "is_grey", "tint_grey",
]

# Extra passes through the tracking graph after an image-mode attempt found a hand
# (asl-letters grouped, single view, plain+pad50 chain: 0 -> 86.4%, 1 -> 88.4%, 2 -> 88.6%).
REFINE_STEPS = 2
# A hand that is small in a large photo (a signer photographed from a few metres) is found by
# the palm detector on a downscaled copy, and its box is loose: the landmarks are poorer. Once
# found, it is looked for again in a square crop ZOOM times the hand box's longer side around
# it (same attempt chain; the answer is kept only when the crop finds the hand in the same
# place), when that crop is at most ZOOM_MAX_FRACTION of the image's shorter side. Measured
# with asl-letters photos pasted into frames three times as wide (`bench/bench_hands.py
# --datasets far-letters`: letters read right 87.1% -> 95.8%; see the README). The cost is a
# second run of the chain on small hands (a crop that misses costs the whole chain).
ZOOM = 3.0
ZOOM_MAX_FRACTION = 0.6

# Smallest short/long side ratio of the landmarks' box accepted as a hand (see _plausible).
MIN_BOX_ASPECT = 0.2


@dataclass
class Hand:
    """One detected hand, in the coordinates of the image passed to `detect`.

    landmarks: float32 [21, 3]; x, y normalised to the original image's width and height
        (0-1 inside the image), z MediaPipe's relative depth on the same scale as x.
    world_landmarks: float32 [21, 3] in metres around the hand's centre, or None.
    handedness: "Left" or "Right" as MediaPipe reports it for this (un-mirrored) image.
        MediaPipe assumes a mirrored selfie view, so for an ordinary photo "Left" usually
        means the signer's right hand; features mirror one side onto the other anyway.
    score: MediaPipe's handedness confidence (its only per-hand score in the legacy API).
    box: (xmin, ymin, xmax, ymax) of the landmarks in pixels of the original image, clipped.
    method: which attempt found it ("plain", "pad50", "hint", "track", ...).
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray | None
    handedness: str
    score: float
    box: tuple[float, float, float, float]
    method: str

    def pixels(self, width: int, height: int) -> np.ndarray:
        """Landmark x, y in pixels of an image of that size: float32 [21, 2]."""
        return self.landmarks[:, :2] * np.array([width, height], dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "landmarks": self.landmarks.round(5).tolist(),
            "world_landmarks": None if self.world_landmarks is None else self.world_landmarks.round(5).tolist(),
            "handedness": self.handedness,
            "score": round(float(self.score), 5),
            "box": [round(float(v), 2) for v in self.box],
            "method": self.method,
        }



def _box_of(points_px: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    xmin, ymin = points_px.min(axis=0)
    xmax, ymax = points_px.max(axis=0)
    return (
        float(np.clip(xmin, 0, width)), float(np.clip(ymin, 0, height)),
        float(np.clip(xmax, 0, width)), float(np.clip(ymax, 0, height)),
    )


class HandDetector:
    """Detect one hand per image (or per video frame) with MediaPipe Hands.

    mode: "image" treats every call independently (palm detection each time); "video" tracks
        the hand from frame to frame (much faster, for live video; frames must come in order).
    model_complexity: 0 (lite, fastest) or 1 (full, more accurate).
    min_detection_confidence: palm-detector threshold for the first attempt.
    robust: retry a miss with DEFAULT_ATTEMPTS (image mode; a hand is usually found by the
        first two, an image without a hand costs all of them, about 1 s), or with a padded
        still-image attempt every few frames while tracking has lost the hand (video mode).
    attempts: override the attempt order (names as in DEFAULT_ATTEMPTS), e.g. FAST_ATTEMPTS
        to bound the time spent on images without a hand.

    Raises FingerspellError for an unknown mode, complexity or attempt name.
    """

    def __init__(
        self,
        mode: str = "image",
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        robust: bool = True,
        *,
        min_tracking_confidence: float = 0.5,
        attempts: Sequence[str] | None = None,
        video_retry_every: int = 5,
        refine_steps: int = REFINE_STEPS,
        tint_grey: bool = True,
        zoom: float = ZOOM,
    ):
        if mode not in ("image", "video"):
            raise FingerspellError(f"unknown hand-detector mode {mode!r}: use 'image' or 'video'")
        if model_complexity not in (0, 1):
            raise FingerspellError(f"model_complexity must be 0 or 1, got {model_complexity!r}")
        if not 0.0 <= min_detection_confidence <= 1.0:
            raise FingerspellError(f"min_detection_confidence must be in 0-1, got {min_detection_confidence!r}")
        self.mode = mode
        self.model_complexity = model_complexity
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self.robust = robust
        names = tuple(attempts) if attempts is not None else (DEFAULT_ATTEMPTS if robust else ("plain",))
        self.attempts = [parse_attempt(n) for n in names]
        # Custom attempts apply to every size; the default robust chain has a small-image branch.
        self.small_attempts = [parse_attempt(n) for n in SMALL_ATTEMPTS] if robust and attempts is None else self.attempts
        self.video_retry_every = max(1, int(video_retry_every))
        if not 0 <= int(refine_steps) <= 5:
            raise FingerspellError(f"refine_steps must be 0-5, got {refine_steps!r}")
        self.refine_steps = int(refine_steps)
        self.tint_grey = bool(tint_grey)
        if not (zoom == 0 or 1.5 <= zoom <= 10):
            raise FingerspellError(f"zoom must be 0 (off) or 1.5-10, got {zoom!r}")
        self.zoom = float(zoom)
        self._solutions: dict[tuple[bool, float, int], Any] = {}  # (static, confidence, complexity) -> Hands
        self._frame = 0
        self._closed = False

    # ---- settings and lifecycle -------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """What determines the detector's answers; the landmark cache is keyed by this."""
        return {
            "mode": self.mode,
            "model_complexity": self.model_complexity,
            "min_detection_confidence": self.min_detection_confidence,
            "robust": self.robust,
            "attempts": [a.name for a in self.attempts],
            "small_attempts": [a.name for a in self.small_attempts],
            "refine_steps": self.refine_steps,
            "tint_grey": self.tint_grey,
            "zoom": self.zoom,
        }

    @property
    def settings_key(self) -> str:
        return json.dumps(self.settings, sort_keys=True, separators=(",", ":"))

    def close(self) -> None:
        for solution in self._solutions.values():
            solution.close()
        self._solutions.clear()
        self._closed = True

    def __enter__(self) -> "HandDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _solution(self, static: bool, attempt: Attempt) -> Any:
        if self._closed:
            raise FingerspellError("this HandDetector is closed")
        confidence = self.min_detection_confidence
        if attempt.very_low:
            confidence = min(VERY_LOW_CONFIDENCE, confidence)
        elif attempt.low:
            confidence = min(LOW_CONFIDENCE, confidence)
        complexity = 0 if attempt.lite else self.model_complexity
        key = (static, confidence, complexity)
        if key not in self._solutions:
            # Imported here (no TFLite start-up on import); quiet_hands keeps MediaPipe's C++ logs off stderr.
            from fingerspell.hands.quiet import quiet_hands

            self._solutions[key] = quiet_hands(
                static_image_mode=static,
                max_num_hands=1,
                model_complexity=complexity,
                min_detection_confidence=confidence,
                min_tracking_confidence=self.min_tracking_confidence,
            )
        return self._solutions[key]

    # ---- detection ----------------------------------------------------------------------------
    def detect(self, image: np.ndarray, hint_box: Sequence[float] | None = None) -> Hand | None:
        """The most prominent hand in `image` (HxWx3 RGB uint8; grey or RGBA accepted), or None.

        hint_box: (xmin, ymin, xmax, ymax) in pixels where the hand is known to be (a
            dataset's annotation); enables the `hint` attempt and rejects hands elsewhere.

        Raises FingerspellError for an array that is not an image or a closed detector.
        """
        rgb = as_rgb(image)
        hint = None if hint_box is None else tuple(float(v) for v in list(hint_box)[:4])
        if self.mode == "video":
            return self._detect_video(rgb, hint)
        if self.tint_grey and is_grey(rgb):
            rgb = tint_grey(rgb)
        attempts = self.small_attempts if min(rgb.shape[:2]) < SMALL_SIDE else self.attempts
        for attempt in attempts:
            if attempt.hint and hint is None:
                continue
            hand = self._try(rgb, attempt, hint, static=True)
            if hand is not None:
                return self._zoomed(rgb, hand, attempts) or hand
        return None

    def _zoomed(self, rgb: np.ndarray, hand: Hand, attempts: Sequence[Attempt]) -> Hand | None:
        """`hand` found again in a square crop around it (see ZOOM), in the coordinates of
        `rgb`; None when the hand is not small in the image or the crop does not find it there."""
        height, width = rgb.shape[:2]
        xmin, ymin, xmax, ymax = hand.box
        side = int(round(self.zoom * max(xmax - xmin, ymax - ymin)))
        if not self.zoom or side > ZOOM_MAX_FRACTION * min(width, height) or side < 8:
            return None
        # The square is shifted inside the image rather than padded: real pixels beat a border.
        left = int(np.clip(round((xmin + xmax - side) / 2), 0, width - side))
        top = int(np.clip(round((ymin + ymax - side) / 2), 0, height - side))
        crop = np.ascontiguousarray(rgb[top : top + side, left : left + side])
        hint = (xmin - left, ymin - top, xmax - left, ymax - top)
        for attempt in attempts:
            found = self._try(crop, attempt, hint, static=True)
            if found is None:
                continue
            landmarks = found.landmarks.copy()
            landmarks[:, 0] = (left + landmarks[:, 0] * side) / width
            landmarks[:, 1] = (top + landmarks[:, 1] * side) / height
            landmarks[:, 2] *= side / width  # z is on the scale of the image's width
            bx0, by0, bx1, by1 = found.box
            return Hand(landmarks=landmarks, world_landmarks=found.world_landmarks, handedness=found.handedness,
                        score=found.score, box=(bx0 + left, by0 + top, bx1 + left, by1 + top),
                        method=f"zoom-{found.method}")
        return None

    def _detect_video(self, rgb: np.ndarray, hint: tuple[float, ...] | None) -> Hand | None:
        self._frame += 1
        hand = self._try(rgb, Attempt("track"), hint, static=False)
        if hand is not None or not self.robust:
            return hand
        # Tracking found nothing: a hand filling the frame or cut by its edge is common on a
        # webcam held close. A padded still-image attempt is ~20 ms, so only every few frames.
        if self._frame % self.video_retry_every == 0:
            return self._try(rgb, parse_attempt("pad50"), hint, static=True)
        return None

    def _try(self, rgb: np.ndarray, attempt: Attempt, hint: tuple[float, ...] | None, static: bool) -> Hand | None:
        height, width = rgb.shape[:2]
        matrix, out_size = view_transform(attempt, width, height, hint)
        if matrix is None:
            view = rgb
        else:
            view = warp_view(rgb, matrix, out_size, attempt.border)
        if attempt.clahe:
            view = clahe(view)
        if attempt.bright != 1.0:
            view = cv2.LUT(view, gamma_table(attempt.bright))
        if attempt.whole:
            result = self._whole_view(view, attempt)
        elif static and self.refine_steps and self.mode == "image":
            result = self._refined(view, attempt)
        else:
            result = _process(self._solution(static, attempt), view)
        if not result.multi_hand_landmarks:
            return None
        view_h, view_w = view.shape[:2]
        points = np.array([[p.x, p.y, p.z] for p in result.multi_hand_landmarks[0].landmark], dtype=np.float64)
        world = None
        if result.multi_hand_world_landmarks:
            world = np.array([[p.x, p.y, p.z] for p in result.multi_hand_world_landmarks[0].landmark], dtype=np.float64)
        label = result.multi_handedness[0].classification[0]
        handedness, score = label.label, float(label.score)

        # Back to the original image: view pixels -> original pixels through the inverse map.
        px = points[:, :2] * np.array([view_w, view_h])
        z_scale = 1.0
        if matrix is not None:
            inverse = cv2.invertAffineTransform(matrix)
            px = px @ inverse[:, :2].T + inverse[:, 2]
            linear = matrix[:, :2]
            scale = float(np.sqrt(abs(np.linalg.det(linear))))
            # z is on the scale of the view's width; bring it to the original's width.
            z_scale = view_w / (scale * width)
            if np.linalg.det(linear) < 0:  # mirrored attempt: the other hand in the original
                handedness = "Right" if handedness == "Left" else "Left"
            if world is not None:
                # World landmarks follow the view's axes: undo rotation and mirroring.
                rot = linear / scale
                world[:, :2] = world[:, :2] @ np.linalg.inv(rot).T
        landmarks = np.empty((21, 3), dtype=np.float32)
        landmarks[:, 0] = px[:, 0] / width
        landmarks[:, 1] = px[:, 1] / height
        landmarks[:, 2] = points[:, 2] * z_scale
        if not self._plausible(landmarks, width, height, hint):
            return None
        return Hand(
            landmarks=landmarks,
            world_landmarks=None if world is None else world.astype(np.float32),
            handedness=handedness,
            score=score,
            box=_box_of(px, width, height),
            method=attempt.name,
        )

    def _refined(self, view: np.ndarray, attempt: Attempt) -> Any:
        """An image-mode attempt through the tracking graph: the first pass detects the palm
        exactly as the still-image graph does; each further pass refits the landmarks inside
        a box built from the previous fit. A black frame afterwards drops the track, so the
        next image starts from palm detection again."""
        solution = self._solution(False, attempt)
        return self._refit_and_drop(solution, view, _process(solution, view))

    def _whole_view(self, view: np.ndarray, attempt: Attempt) -> Any:
        """Landmarks fitted in a box covering the (square) view, without the palm detector:
        the tracking graph first sees the reference hand, whose box covers its frame, then
        `view` (plus `refine_steps` refits); a black frame afterwards drops the track. An
        empty result when the landmark model sees no hand there (its presence score). No track
        is left to drop beforehand: every found hand ends with the black frame, and a frame
        without a hand ends MediaPipe's track by itself."""
        solution = self._solution(False, attempt)
        prior = _process(solution, prior_hand(self.tint_grey))
        if not prior.multi_hand_landmarks:  # the packaged reference hand is always found
            return prior
        return self._refit_and_drop(solution, view, _process(solution, view))

    def _refit_and_drop(self, solution: Any, view: np.ndarray, result: Any) -> Any:
        """`refine_steps` more passes of `view` through the tracking graph while it still sees
        the hand (each refits inside the previous fit's box), then a black frame drops the
        track so the next image starts afresh (without a hand there is no track to drop).
        Returns the last result with a hand."""
        if not result.multi_hand_landmarks:
            return result
        for _ in range(self.refine_steps):
            again = _process(solution, view)
            if not again.multi_hand_landmarks:
                break
            result = again
        _process(solution, BLANK)
        return result

    @staticmethod
    def _plausible(landmarks: np.ndarray, width: int, height: int, hint: tuple[float, ...] | None) -> bool:
        """Reject answers that cannot be the hand in the original image: a "hand" found in
        the border an attempt added, or (with a hint) one far from the known hand box."""
        xy = landmarks[:, :2]
        inside = np.mean((xy[:, 0] >= -0.02) & (xy[:, 0] <= 1.02) & (xy[:, 1] >= -0.02) & (xy[:, 1] <= 1.02))
        if inside < 0.6:
            return False
        span = (xy.max(axis=0) - xy.min(axis=0)) * np.array([width, height])
        if span.max() < 2.0:  # a collapsed skeleton is no hand
            return False
        # A skeleton squeezed into a sliver (seen on backlit silhouettes with low thresholds:
        # all 21 points along one edge) is no fit either. Real hands never come close: over
        # the 10,508 MediaPipe hands of asl-landmarks the box's short/long side is >= 0.236.
        if span.min() / span.max() < MIN_BOX_ASPECT:
            return False
        if hint is not None:
            cx, cy = (xy.mean(axis=0) * np.array([width, height])).tolist()
            xmin, ymin, xmax, ymax = hint
            # The centre of a real fit lies inside the annotated box; allow a quarter for loose boxes.
            margin_x, margin_y = 0.25 * (xmax - xmin), 0.25 * (ymax - ymin)
            if not (xmin - margin_x <= cx <= xmax + margin_x and ymin - margin_y <= cy <= ymax + margin_y):
                return False
        return True


def _process(solution: Any, view: np.ndarray) -> Any:
    with warnings.catch_warnings():
        # mediapipe 0.10.14 calls a deprecated protobuf API on every frame; silence only that.
        warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")
        return solution.process(view)
