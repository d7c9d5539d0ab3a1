"""A dataset's cached hand landmarks as arrays, for the sampled fits (`train.sampled_fit`,
`train.recipe_run`) and the accuracy protocols' landmark sets (`evaluate.landmark_sets`)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError


def canonical_label(label: str) -> str:
    """Letters upper-case (Massey's folders are lower-case); anything else as it is."""
    return label.upper() if len(label) == 1 and label.isalpha() else label


def cached_landmarks(ds: Dataset, samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points float32 [N, 21, 3], found bool [N], handedness str [N]) of `samples`, in order,
    from the dataset's landmark cache; zeros, False and "" where no hand was found.

    Raises TrainingError when the dataset has no landmarks at all (run `fingerspell data
    landmarks NAME` first).
    """
    from fingerspell.hands.extract import load_landmarks

    rows = load_landmarks(ds)
    if samples and not rows:
        raise TrainingError(f"dataset {ds.name!r} has no landmarks: run `fingerspell data landmarks {ds.name}` first")
    n = len(samples)
    points = np.zeros((n, 21, 3), np.float32)
    found = np.zeros(n, bool)
    handedness = np.full(n, "", dtype="<U5")
    for i, s in enumerate(samples):
        row = rows.get(s.id)
        if row is not None and row.found and row.points is not None:
            points[i], found[i] = row.points, True
            handedness[i] = row.handedness or ""
    return points, found, handedness
