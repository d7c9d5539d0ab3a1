"""Continuous fingerspelling streams assembled from real landmarks, for tests and the bench.

Sources (real data only; nothing is drawn by hand):
- `asl-landmarks` (shared datasets): MediaPipe landmarks of webcam frames of one signer, in
  recording order: about 400 frames a letter, four takes of about 100 frames each (J and Z
  included, with their movement). `landmark_takes` cuts each letter into its takes at the
  biggest jumps near the quarter marks and drops glitches (runs of 1-3 frames far from the
  frames on both sides, which agree with each other: frames of another take interleaved in
  the file).
  The frame rate is not recorded; `TAKE_FPS` = 30 (a webcam's) is assumed.
- held poses from photos (`pose_hold`): the landmarks of one real photo, held with drift (a slow
  random walk of position, rotation and size) and per-frame tracker jitter.

`Stream` glues holds with transitions (the landmarks move from one real pose to the next over
0.15-0.35 s), bounces (a quick move of the hand and back: a double letter) and gaps (no hand:
a new word). Frames are on a 640x480 canvas; each frame is the dict the browser gives the
rules: {t, landmarks, handedness, size} (`probs` is added by whoever runs a model on them).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError

WIDTH, HEIGHT = 640, 480
TAKE_FPS = 30.0
TAKES_PER_LETTER = 4
GLITCH = 0.04  # palm sizes: a frame this far from both neighbours (that agree) is a glitch


def _palm(points: np.ndarray) -> np.ndarray:
    """Wrist to middle knuckle, in the units of `points` ([..., 21, >=2])."""
    return np.linalg.norm(points[..., 9, :2] - points[..., 0, :2], axis=-1)


def landmark_takes(path: Path) -> dict[str, list[np.ndarray]]:
    """The asl-landmarks takes per letter: {letter: [float32 [n, 21, 3] pixel coordinates]}.

    Raises FingerspellError when the file is missing or not the expected arrays.
    """
    if not path.is_file():
        raise FingerspellError(f"{path}: no such landmark file (the shared asl-landmarks/landmarks.npz)")
    with np.load(path) as data:
        if "x" not in data or "y" not in data:
            raise FingerspellError(f"{path}: expected arrays 'x' and 'y'")
        points, labels = data["x"].astype(np.float64), data["y"].astype(str)
    points = points * np.array([WIDTH, HEIGHT, WIDTH])
    out: dict[str, list[np.ndarray]] = {}
    for letter in sorted(set(labels)):
        seq = points[labels == letter]
        keep = _not_glitched(seq)
        seq = seq[keep]
        palm = np.maximum(_palm(seq), 1e-6)
        step = np.abs(seq[1:, :, :2] - seq[:-1, :, :2]).mean(axis=(1, 2)) / palm[1:]
        cuts = []
        for k in range(1, TAKES_PER_LETTER):
            mark = len(seq) * k // TAKES_PER_LETTER
            lo, hi = max(1, mark - 15), min(len(step), mark + 15)
            cuts.append(lo + int(np.argmax(step[lo:hi])) + 1)
        out[letter] = [part.astype(np.float32) for part in np.split(seq, cuts) if len(part) >= 20]
    return out


def _not_glitched(seq: np.ndarray, longest: int = 3) -> np.ndarray:
    """False for runs of 1-`longest` frames that jump away from frames on both sides that agree
    with each other (frames of another take interleaved in the file)."""
    palm = np.maximum(_palm(seq), 1e-6)

    def gap(a: int, b: int) -> float:
        return float(np.abs(seq[a, :, :2] - seq[b, :, :2]).mean() / palm[a])

    keep = np.ones(len(seq), dtype=bool)
    i = 1
    while i < len(seq) - 1:
        for k in range(1, longest + 1):
            after = i + k
            if after >= len(seq):
                break
            jump_in, jump_out, across = gap(i - 1, i), gap(after - 1, after), gap(i - 1, after)
            if min(jump_in, jump_out) > max(GLITCH, 2.5 * across):
                keep[i:after] = False
                i = after - 1
                break
        i += 1
    return keep


@dataclass
class Stream:
    """A stream under construction: frames plus what each frame shows (the truth)."""

    fps: float = 30.0
    seed: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    truth: list[str | None] = field(default_factory=list)  # the letter held (None: moving / no hand)
    holds: list[tuple[int, int, str]] = field(default_factory=list)  # (first frame, end, letter)
    words: list[str] = field(default_factory=list)
    source: str = ""  # where the frames come from (for reports)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self._last: np.ndarray | None = None  # pixel points of the last frame with a hand
        self.take_end = 0  # the frame after the last take's chunk

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def _add(self, points: np.ndarray | None, letter: str | None) -> None:
        t = len(self.frames) / self.fps
        if points is None:
            self.frames.append({"t": t, "landmarks": None, "handedness": None, "size": [WIDTH, HEIGHT]})
        else:
            norm = points / np.array([WIDTH, HEIGHT, WIDTH])
            self.frames.append({"t": t, "landmarks": np.round(norm, 6).tolist(), "handedness": None,
                                "size": [WIDTH, HEIGHT]})
            self._last = points
        self.truth.append(letter)

    def gap(self, seconds: float) -> None:
        """No hand in view for `seconds`."""
        for _ in range(max(1, round(seconds * self.fps))):
            self._add(None, None)
        self._last = None

    def take(self, frames: np.ndarray, letter: str, seconds: float | None = None, start: int | None = None) -> None:
        """Real frames of a take (`seconds` of them at TAKE_FPS from `start`, random if None),
        resampled to the stream's fps, moved so the hand continues where it was."""
        need = len(frames) if seconds is None else min(len(frames), max(2, round(seconds * TAKE_FPS)))
        if start is None:
            start = int(self.rng.integers(0, len(frames) - need + 1))
        chunk = frames[start:start + need]
        self.take_end = start + len(chunk)  # where a double letter's second hold continues the take
        count = max(1, round(len(chunk) / TAKE_FPS * self.fps))
        picks = np.minimum((np.arange(count) * TAKE_FPS / self.fps).astype(int), len(chunk) - 1)
        self._transition(chunk[0])
        first = len(self.frames)
        for i in picks:
            self._add(chunk[i], letter)
        self.holds.append((first, len(self.frames), letter))

    def pose(self, points: np.ndarray, letter: str | None, seconds: float, jitter: float = 0.012) -> None:
        """A real pose (pixel points) held for `seconds` with drift and per-frame jitter (palm sizes)."""
        self._transition(points)
        first = len(self.frames)
        palm = float(_palm(points))
        centre = points[:, :2].mean(axis=0)
        offset, angle, scale = np.zeros(2), 0.0, 1.0
        velocity = self.rng.normal(0, 0.15, 2) * palm  # slow drift, palm sizes per second
        for _ in range(max(1, round(seconds * self.fps))):
            offset += velocity / self.fps + self.rng.normal(0, 0.01, 2) * palm
            angle += float(self.rng.normal(0, 0.4))  # degrees per frame, random walk
            scale *= float(np.exp(self.rng.normal(0, 0.003)))
            self._add(_moved(points, centre, offset, angle, scale, self.rng, jitter * palm), letter)
        self.holds.append((first, len(self.frames), letter))

    def bounce(self, seconds: float = 0.3, amplitude: float = 0.6, axis: int = 1) -> None:
        """The last pose moves `amplitude` palm sizes along `axis` and back (a double letter)."""
        if self._last is None:
            raise FingerspellError("a bounce needs a hand in view")
        base = self._last.copy()
        palm = float(_palm(base))
        count = max(2, round(seconds * self.fps))
        for i in range(count):
            shift = np.zeros(3)
            shift[axis] = amplitude * palm * np.sin(np.pi * (i + 1) / (count + 1))
            self._add(base + shift + self.rng.normal(0, 0.01 * palm, base.shape) * [1, 1, 0], None)
        self._last = base

    def _transition(self, target: np.ndarray) -> None:
        """Move from the last pose to `target` over 0.15-0.35 s (nothing when no hand was in view)."""
        if self._last is None:
            return
        source = self._last
        count = max(2, round(float(self.rng.uniform(0.15, 0.35)) * self.fps))
        for i in range(1, count):
            w = 0.5 - 0.5 * np.cos(np.pi * i / count)  # ease in and out
            self._add(source + w * (target - source), None)


def _moved(points: np.ndarray, centre: np.ndarray, offset: np.ndarray, angle: float, scale: float,
           rng: np.random.Generator, jitter: float) -> np.ndarray:
    rad = np.deg2rad(angle)
    rot = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]])
    out = points.copy()
    out[:, :2] = (points[:, :2] - centre) @ rot.T * scale + centre + offset
    out[:, :2] += rng.normal(0, jitter, (21, 2))
    return out


def photo_pose(landmarks: np.ndarray, image_size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A photo's landmarks (normalised to the photo) placed on the canvas: palm 50-90 px, centred
    near the middle. Returns pixel points [21, 3]."""
    pts = np.asarray(landmarks, dtype=np.float64) * np.array([image_size[0], image_size[1], image_size[0]])
    scale = float(rng.uniform(50, 90)) / max(float(_palm(pts)), 1e-6)
    pts = pts * scale
    centre = pts[:, :2].mean(axis=0)
    target = np.array([WIDTH / 2, HEIGHT / 2]) + rng.uniform(-60, 60, 2)
    pts[:, :2] += target - centre
    return pts


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def frame_probabilities(frames: list[dict[str, Any]], logits_of: Any, temperature: float) -> list[list[float] | None]:
    """softmax(logits_of(features) / temperature) for each frame with landmarks, None where no hand.

    `logits_of` maps float32 lm-v1 features [n, F] to logits [n, C] (an ONNX session or a torch
    model: the spelling bench scores streams with either)."""
    from fingerspell.hands.features import landmark_features_batch

    rows = [i for i, f in enumerate(frames) if f["landmarks"] is not None]
    out: list[list[float] | None] = [None] * len(frames)
    if not rows:
        return out
    points = np.asarray([frames[i]["landmarks"] for i in rows], dtype=np.float32)
    feats = landmark_features_batch(points, [frames[i]["handedness"] for i in rows], tuple(frames[rows[0]]["size"]))
    logits = np.asarray(logits_of(feats.astype(np.float32)), dtype=np.float64) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    for i, p in zip(rows, probs):
        out[i] = p.tolist()
    return out


class LandmarkModel:
    """The bundle's ONNX model on landmark frames: calibrated probabilities per frame."""

    def __init__(self, bundle: Path):
        """Raises BundleError for a missing or invalid bundle."""
        import onnxruntime as ort

        from fingerspell.export.bundle import Bundle

        self.bundle = Bundle.load(bundle)
        self.labels = list(self.bundle.labels)
        self.temperature = self.bundle.temperature
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.bundle.model_path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def probabilities(self, frames: list[dict[str, Any]], temperature: float | None = None) -> list[list[float] | None]:
        """softmax(logits / T) for each frame with landmarks (None where no hand); T defaults to
        the bundle's calibration."""
        return frame_probabilities(frames, lambda feats: self.session.run(None, {self.input: feats})[0],
                                   self.temperature if temperature is None else temperature)


@dataclass
class PhotoPose:
    """The landmarks MediaPipe found on one real photo."""

    letter: str
    signer: str
    path: str
    landmarks: np.ndarray  # [21, 3] normalised to the photo
    handedness: str
    image_size: tuple[int, int]


def massey_poses(massey: Path, letters: str, signers: Sequence[str], per_letter: int,
                 cache: Path | None = None) -> list[PhotoPose]:
    """Hand landmarks of the first `per_letter` Massey photos (in name order) of each letter and
    signer, found by the default bundle's still-image detector settings; photos without a hand
    are skipped. With `cache`, results are kept in that .npz (keyed by the photo paths).

    Raises FingerspellError when the Massey folder is missing.
    """
    if not massey.is_dir():
        raise FingerspellError(f"{massey}: no such folder (the shared massey/asl_dataset)")
    wanted: list[tuple[str, str, Path]] = []
    for letter in letters:
        folder = massey / letter.lower()
        for signer in signers:
            files = sorted(folder.glob(f"{signer}_{letter.lower()}_*.jpeg"))[:per_letter]
            wanted.extend((letter, signer, f) for f in files)
    key = [str(p.relative_to(massey)) for _, _, p in wanted]
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            if list(data["paths"]) == key:
                return [PhotoPose(str(l), str(s), str(p), pts, str(h), (int(w), int(hh)))
                        for l, s, p, pts, h, w, hh, ok in zip(data["letters"], data["signers"], data["paths"],
                                                               data["points"], data["handedness"], data["width"],
                                                               data["height"], data["found"]) if ok]
    from fingerspell.data.images import read_image
    from fingerspell.hands import HandDetector

    rows = []
    with HandDetector(mode="image", model_complexity=1, robust=True, refine_steps=2, tint_grey=True,
                      zoom=3.0) as detector:
        for (letter, signer, path), rel in zip(wanted, key):
            image = read_image(path)
            hand = detector.detect(image)
            h, w = image.shape[:2]
            rows.append((letter, signer, rel, np.zeros((21, 3), np.float32) if hand is None else hand.landmarks,
                         "" if hand is None else hand.handedness, w, h, hand is not None))
    if cache is not None:
        from fingerspell.atomic import write_bytes

        buffer = io.BytesIO()
        np.savez(buffer, letters=np.array([r[0] for r in rows]), signers=np.array([r[1] for r in rows]),
                 paths=np.array(key), points=np.stack([r[3] for r in rows]).astype(np.float32),
                 handedness=np.array([r[4] for r in rows]), width=np.array([r[5] for r in rows]),
                 height=np.array([r[6] for r in rows]), found=np.array([r[7] for r in rows]))
        write_bytes(cache, buffer.getvalue())
    return [PhotoPose(r[0], r[1], r[2], np.asarray(r[3]), r[4], (r[5], r[6])) for r in rows if r[7]]
