"""The `landmarks` input kind: hand-landmark features for landmark models, with augmentation.

Features come from the landmark cache in the dataset's index (`hands.extract.load_landmarks`;
run `fingerspell data landmarks NAME` first) through `hands.features.landmark_features_batch`.

Samples where no hand was found:
- training (`training=True`): left out - there is nothing to learn from;
- evaluation (`training=False`): KEPT, as an all-zero feature vector, and flagged in the
  built dataset's `found` array (bool, one per item). `evaluate()` and the accuracy protocols
  count every item with `found == False` as wrong whatever the model says, and report the
  no-hand rate, so an accuracy never hides the hands MediaPipe missed.

Augmentation happens in landmark space, on the raw points before the features, redrawn every
epoch (seeded by seed and epoch, so a resumed run replays it): a 3-D rotation (in-plane up to
`rotate_limit` degrees, tilt out of the plane up to half that; recipes set both, `rotate_deg`
and `tilt_ratio`), other finger-bone lengths (recipes' `bone_scale`, off by default), an
anisotropic scale (up to `scale_limit`, which also imitates a wrong image aspect), per-point
jitter (`noise_std` of the hand size), finger dropout (one finger's joints displaced, with
probability `coarse_dropout`) and mirroring of the points without swapping the handedness
label (probability `hflip`, imitating MediaPipe's occasional wrong Left/Right). The image keys
of `augment.*` are reused with these landmark meanings; `augment.shift_scale_rotate` is the
probability that a sample gets the rotation/scale/jitter at all.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError
from fingerspell.hands.features import FEATURE_SIZE, landmark_features_batch
from fingerspell.train.splits import select_samples

# Landmark-only datasets (the asl-landmarks webcam set) have no image size; their frames were
# a 4:3 webcam's, and features only need the aspect ratio.
ASSUMED_LANDMARK_IMAGE_SIZE = (640, 480)
_FINGERS = np.array([(1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)])
# Where each finger bone starts: the wrist, then the finger's previous joint.
_BONE_STARTS = np.concatenate([np.zeros((5, 1), int), _FINGERS[:, :3]], axis=1)


@dataclass(frozen=True)
class LandmarkAugment:
    """Landmark-space augmentation strengths (0 switches one off)."""

    probability: float = 1.0       # chance a sample gets rotation + scale + jitter
    rotate_deg: float = 15.0       # std of the in-plane rotation (degrees)
    scale: float = 0.08            # std of the log scale per axis
    jitter: float = 0.02           # std of per-point noise, as a fraction of the hand size
    finger_dropout: float = 0.1    # chance one finger's joints are displaced
    mirror: float = 0.0            # chance of mirroring the points but not the label
    tilt_ratio: float = 0.5        # std of the tilt out of the image plane, as a fraction of rotate_deg
    bone_scale: float = 0.0        # std of the log length of each finger bone (other people's proportions)

    @classmethod
    def from_config(cls, augment: Any) -> "LandmarkAugment":
        """Map the training config's `augment.*` keys onto landmark augmentation."""
        return cls(
            probability=float(augment.shift_scale_rotate),
            rotate_deg=float(augment.rotate_limit),
            scale=float(augment.scale_limit),
            jitter=float(augment.noise_std) if augment.gaussian_noise > 0 else cls.jitter,
            finger_dropout=float(augment.coarse_dropout) if augment.coarse_dropout > 0 else cls.finger_dropout,
            mirror=float(augment.hflip),
        )


def _rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    r = np.zeros((len(angle), 3, 3))
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    r[:, axis, axis] = 1.0
    r[:, i, i] = c
    r[:, j, j] = c
    r[:, i, j] = -s
    r[:, j, i] = s
    return r


def _scaled_bones(hand: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Wrist-centred hands [N, 21, 3] with each finger bone (wrist->base, base->next joint, ...,
    one factor per bone in `factors` [N, 5, 4]) stretched, the joints beyond it carried along:
    a hand with another person's proportions in the same pose."""
    bones = hand[:, _FINGERS] - hand[:, _BONE_STARTS]  # [N, 5, 4, 3]; the wrist is at the origin
    out = hand.copy()
    out[:, _FINGERS] = np.cumsum(bones * factors[..., None], axis=2)
    return out


def augment_points(points: np.ndarray, image_size: np.ndarray, rng: np.random.Generator,
                   aug: LandmarkAugment) -> np.ndarray:
    """Randomly perturbed copies of MediaPipe landmarks [N, 21, 3] (same coordinates as input).

    Works in pixels (x, y, z times w, h, w) around the wrist so a rotation is a rotation of
    the real hand, not of a squashed one.
    """
    n = len(points)
    if n == 0:
        return points.astype(np.float32)
    scale = np.stack([image_size[:, 0], image_size[:, 1], image_size[:, 0]], axis=1)[:, None, :]
    pixels = points.astype(np.float64) * scale
    wrist = pixels[:, :1].copy()
    hand = pixels - wrist
    size = np.linalg.norm(hand[:, 9], axis=1)[:, None, None] + 1e-6
    if aug.bone_scale > 0:
        hand = _scaled_bones(hand, np.exp(rng.normal(0, aug.bone_scale, (n, 5, 4))))
    chosen = rng.random(n) < aug.probability
    rot = np.deg2rad(aug.rotate_deg)
    tilt = rot * aug.tilt_ratio
    r = _rotation(2, rng.normal(0, rot, n)) @ _rotation(0, rng.normal(0, tilt, n)) @ _rotation(1, rng.normal(0, tilt, n))
    moved = np.einsum("nij,nkj->nki", r, hand)
    moved = moved * np.exp(rng.normal(0, aug.scale, (n, 1, 3)))
    moved = moved + rng.normal(0, aug.jitter, moved.shape) * size
    hand = np.where(chosen[:, None, None], moved, hand)
    if aug.finger_dropout > 0:
        dropped = rng.random(n) < aug.finger_dropout
        finger = rng.integers(0, 5, n)
        for k in range(5):
            rows = np.flatnonzero(dropped & (finger == k))
            if len(rows):
                hand[np.ix_(rows, _FINGERS[k])] += rng.normal(0, 0.08, (len(rows), 4, 3)) * size[rows]
    out = (hand + wrist) / scale
    if aug.mirror > 0:
        flip = rng.random(n) < aug.mirror
        out[flip, :, 0] = 1.0 - out[flip, :, 0]
    return out.astype(np.float32)


def image_sizes(samples: Sequence[Sample]) -> np.ndarray:
    """[N, 2] (width, height) per sample; the assumed webcam size where the index has none."""
    return np.array(
        [(s.width, s.height) if s.width and s.height else ASSUMED_LANDMARK_IMAGE_SIZE for s in samples],
        dtype=np.float64,
    )


class LandmarkInputs:
    """Feature vectors and class indexes for a list of samples; see the module docstring.

    Attributes: `samples`, `labels` (class indexes into dataset.classes), `found` (bool per
    item: False = no hand, features all zero, to be counted wrong), `points`, `handedness`.
    """

    def __init__(self, dataset: Dataset, samples: list[Sample], config: Any, training: bool):
        import torch

        from fingerspell.hands.extract import load_landmarks

        rows = load_landmarks(dataset)
        index = {c: i for i, c in enumerate(dataset.classes)}
        found = np.array([s.id in rows and rows[s.id].found and rows[s.id].points is not None for s in samples], bool)
        missing_rows = sum(1 for s in samples if s.id not in rows)
        if samples and missing_rows == len(samples):
            raise TrainingError(
                f"dataset {dataset.name!r} has no landmarks yet: run `fingerspell data landmarks {dataset.name}` first"
            )
        if training:
            samples = [s for s, f in zip(samples, found) if f]
            found = np.ones(len(samples), bool)
            if not samples:
                raise TrainingError(f"dataset {dataset.name!r}: no training sample has a hand found")
        self.dataset_name = dataset.name
        self.samples = samples
        self.found = found
        self.training = training
        self.labels = [index[s.label] for s in samples]
        self.points = np.zeros((len(samples), 21, 3), np.float32)
        self.handedness: list[str | None] = [None] * len(samples)
        for i, s in enumerate(samples):
            if found[i]:
                self.points[i] = rows[s.id].points
                self.handedness[i] = rows[s.id].handedness
        self.image_size = image_sizes(samples)
        self.augment = LandmarkAugment.from_config(config.augment) if training else None
        self.seed = int(config.seed)
        self._torch = torch
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Recompute the features, with this epoch's augmentation when training."""
        points = self.points
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, epoch, 7])
            points = augment_points(points, self.image_size, rng, self.augment)
        features = np.zeros((len(points), FEATURE_SIZE), np.float32)
        if self.found.any():
            keep = np.flatnonzero(self.found)
            features[keep] = landmark_features_batch(
                points[keep], [self.handedness[i] for i in keep], self.image_size[keep]
            )
        self.features = features

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        return self._torch.from_numpy(self.features[i]), self.labels[i]

    def display(self, i: int) -> np.ndarray | None:
        """The sample's image with its landmarks drawn, for mistake galleries (None if unreadable)."""
        try:
            from fingerspell.hands.detector import Hand
            from fingerspell.hands.draw import draw_hand

            ds = Dataset.load(self.dataset_name)
            try:
                image = ds.image(self.samples[i])
            finally:
                ds.close()
            if image.ndim == 2:
                image = np.repeat(image[:, :, None], 3, axis=2)
            if self.found[i]:
                hand = Hand(landmarks=self.points[i], world_landmarks=None, handedness=self.handedness[i] or "Left",
                            score=1.0, box=(0.0, 0.0, 0.0, 0.0), method="cache")
                image = draw_hand(image, hand, box=False)
            return image
        except Exception:  # a gallery picture is a nicety; never fail an evaluation over it
            return None


def landmark_builder(dataset: Dataset, split: str | Sequence[Sample] | None, spec: Any, config: Any,
                     training: bool) -> LandmarkInputs:
    """The `landmarks` input kind. Raises TrainingError when the dataset has no landmarks."""
    if spec.input_size and tuple(spec.input_size) != (FEATURE_SIZE,):
        raise TrainingError(
            f"model {spec.name!r} expects {spec.input_size[0]} landmark features but this version computes {FEATURE_SIZE}"
        )
    return LandmarkInputs(dataset, select_samples(dataset, split), config, training)

