"""Fit a landmark model in memory (no run folder) and predict a landmark set with it.

The accuracy protocols make 30-odd fits per run, which through `train()` would write 30-odd
run folders and reports. `fit_landmark_model` hands a LandmarkSet to the one sampled training
loop (`train.sampled_fit.SampledFit`), the loop that also trains the shipped default model
from `recipes/default.yaml` (`fingerspell train --recipe`), so the bench numbers describe the
shipped model's recipe (`FULL_RECIPE`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.landmark_sets import LandmarkSet
from fingerspell.train.sampled_fit import FULL_RECIPE, QUICK_RECIPE, Recipe, SampledFit, TrainingLandmarks

__all__ = ["FULL_RECIPE", "QUICK_RECIPE", "Recipe", "fit_landmark_model", "predict_set", "training_landmarks"]


def training_landmarks(train_set: LandmarkSet, classes: Sequence[str], sources: np.ndarray | None = None) -> TrainingLandmarks:
    """The samples of `train_set` with a hand and a label in `classes`, as training arrays.

    `sources` (str [N]) names where each sample came from (default: the set's name).
    Raises FingerspellError when fewer than 2 samples remain.
    """
    keep = train_set.found & np.isin(train_set.labels, list(classes))
    if keep.sum() < 2:
        raise FingerspellError(f"{train_set.name}: fewer than 2 training samples with a hand found")
    data = train_set.subset(keep)
    index = {c: i for i, c in enumerate(classes)}
    return TrainingLandmarks(
        points=data.points, handedness=data.handedness, image_size=data.image_size,
        targets=np.array([index[label] for label in data.labels]),
        sources=np.asarray(sources)[keep] if sources is not None else np.full(len(data), data.name),
    )


def fit_landmark_model(train_set: LandmarkSet, classes: Sequence[str], recipe: Recipe = Recipe(),
                       sources: np.ndarray | None = None) -> Any:
    """Train a registered landmark model on the samples of `train_set` with a hand
    (`SampledFit`: at most `recipe.per_source` fresh samples from every source each epoch).

    Returns the model in eval mode. Raises FingerspellError when there is nothing to train on.
    """
    return SampledFit(training_landmarks(train_set, classes, sources), len(classes), recipe).fit()


def predict_set(model: Any, data: LandmarkSet, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(class index [N] with -1 where no hand was found, softmax probabilities [N, C]; rows of
    samples without a hand are zeros). Probabilities are softmax(logits / temperature).

    With test-time views, the probabilities are the mean over the robust detection and every
    view that found a hand in that sample (what `Predictor` does for still images); a sample
    whose robust detection found no hand stays "no hand".
    """
    import torch

    pred = np.full(len(data), -1)
    probs = np.zeros((len(data), 0), np.float32)
    if data.found.any():
        with torch.no_grad():
            p = torch.softmax(model(torch.as_tensor(data.features())) / temperature, 1).numpy()
            total = np.zeros((len(data), p.shape[1]), np.float32)
            count = np.zeros(len(data), np.float32)
            total[data.found], count[data.found] = p, 1.0
            for view in data.views:
                seen = view.found & data.found
                if seen.any():
                    logits = model(torch.as_tensor(view.subset(seen).features()))
                    total[seen] += torch.softmax(logits / temperature, 1).numpy()
                    count[seen] += 1.0
        probs = total / np.maximum(count, 1.0)[:, None]
        pred[data.found] = probs[data.found].argmax(1)
    return pred, probs
