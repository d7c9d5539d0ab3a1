"""Landmark sets: the cached hand landmarks of (part of) a dataset as arrays, for the
accuracy protocols and `bench/train_default.py`.

Every number built on a `LandmarkSet` counts a sample where MediaPipe found no hand as WRONG
(`found` is False there) and reports the no-hand rate beside it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from fingerspell.data.index import Dataset
from fingerspell.errors import FingerspellError
from fingerspell.hands.features import landmark_features_batch
from fingerspell.train.landmark_data import cached_landmarks, canonical_label
from fingerspell.train.landmark_inputs import image_sizes

LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
MOTION_LETTERS = ("J", "Z")
STATIC_LETTERS = [letter for letter in LETTERS if letter not in MOTION_LETTERS]


@dataclass
class LandmarkSet:
    """The cached landmarks of (part of) a dataset, as arrays."""

    name: str
    labels: np.ndarray        # str [N], canonical labels
    groups: np.ndarray        # str [N], signer / source photo ("" when none)
    points: np.ndarray        # float32 [N, 21, 3]; zeros where no hand was found
    handedness: np.ndarray    # str [N]: "Left" / "Right" / "" (unknown)
    image_size: np.ndarray    # float [N, 2] (width, height)
    found: np.ndarray         # bool [N]
    # Test-time views (see TEST_VIEWS): the same samples seen through other single detector
    # attempts; `predict_set` averages the classifier over the views that found a hand.
    views: tuple["LandmarkSet", ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> "LandmarkSet":
        return LandmarkSet(self.name, self.labels[mask], self.groups[mask], self.points[mask],
                           self.handedness[mask], self.image_size[mask], self.found[mask],
                           tuple(v.subset(mask) for v in self.views))

    def without_views(self) -> "LandmarkSet":
        return replace(self, views=())

    def letters(self, letters: Iterable[str]) -> "LandmarkSet":
        return self.subset(np.isin(self.labels, list(letters)))

    @property
    def no_hand_rate(self) -> float:
        return float(1.0 - self.found.mean()) if len(self) else 0.0

    def features(self, points: np.ndarray | None = None) -> np.ndarray:
        """Features of the samples with a hand (rows where `found`), float32 [found, F]."""
        pts = self.points if points is None else points
        keep = self.found
        return landmark_features_batch(pts[keep], list(self.handedness[keep]), self.image_size[keep])

    @staticmethod
    def concat(sets: Sequence["LandmarkSet"], name: str | None = None) -> "LandmarkSet":
        if not sets:
            raise FingerspellError("nothing to concatenate: no landmark sets")
        return LandmarkSet(
            name or "+".join(s.name for s in sets),
            *(np.concatenate([getattr(s, f) for s in sets]) for f in
              ("labels", "groups", "points", "handedness", "image_size", "found")),
        )


def load_landmark_set(dataset: Dataset | str) -> LandmarkSet:
    """All samples of a dataset with their cached landmarks (missing rows = no hand found).

    Raises DatasetNotFoundError for an unknown name and FingerspellError when the dataset has
    no landmarks at all (run `fingerspell data landmarks NAME`).
    """
    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    samples = list(ds.samples())
    return landmark_set_of(ds, samples, [canonical_label(s.label) for s in samples])


def landmark_set_of(ds: Dataset, samples: list, labels: list[str]) -> LandmarkSet:
    """`samples` of `ds` (with these `labels`, in order) and their cached landmarks.

    Raises FingerspellError when the dataset has no landmarks at all.
    """
    points, found, handedness = cached_landmarks(ds, samples)
    return LandmarkSet(
        name=ds.name,
        labels=np.array(labels, dtype=object).astype(str),
        groups=np.array([s.signer or "" for s in samples], dtype=object).astype(str),
        points=points, handedness=handedness, image_size=image_sizes(samples), found=found,
    )
