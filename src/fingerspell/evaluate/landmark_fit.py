"""Fit a landmark model in memory (no run folder) and predict a landmark set with it.

The accuracy protocols make 30-odd fits per run, which through `train()` would write 30-odd
run folders and reports; `bench/train_default.py` trains the bundled default with the same
`FULL_RECIPE` (`evaluate.accuracy_bench`), so the bench numbers describe the shipped model's
recipe. The arithmetic and the order of random draws here decide the default model's bytes:
change them only together with a rebuild of the default bundle.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.landmark_sets import LandmarkSet
from fingerspell.train.landmark_inputs import LandmarkAugment, augment_points

@dataclass(frozen=True)
class Recipe:
    """How a landmark model is trained by the protocols and bench/train_default.py."""

    model: str = "landmark-mlp"
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.002
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    seed: int = 0
    per_source: int = 1500         # samples drawn from each training source per epoch (0 = all)
    augment: LandmarkAugment = field(default_factory=LandmarkAugment)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The recipe of the shipped default model and of `fingerspell bench accuracy`; the quick bench's.
FULL_RECIPE = Recipe()
QUICK_RECIPE = Recipe(model="landmark-mlp-small", epochs=12, batch_size=32)


def fit_landmark_model(train_set: LandmarkSet, classes: Sequence[str], recipe: Recipe = Recipe(),
                       sources: np.ndarray | None = None) -> Any:
    """Train a registered landmark model on the samples of `train_set` with a hand.

    `sources` (str [N]) names where each sample came from. Each epoch draws at most
    `recipe.per_source` samples from every source (fresh ones each epoch), so the 10,000
    near-identical webcam frames neither drown Massey's four signers nor slow every epoch;
    over the epochs all data is used. Returns the model in eval mode. Raises
    FingerspellError when there is nothing to train on.
    """
    import torch

    from fingerspell.models import create_model

    keep = train_set.found & np.isin(train_set.labels, list(classes))
    if keep.sum() < 2:
        raise FingerspellError(f"{train_set.name}: fewer than 2 training samples with a hand found")
    data = train_set.subset(keep).without_views()  # views are for scoring, not training
    index = {c: i for i, c in enumerate(classes)}
    y_all = np.array([index[label] for label in data.labels])
    src = np.asarray(sources)[keep] if sources is not None else np.full(len(data), data.name)
    members = [np.flatnonzero(src == name) for name in np.unique(src)]
    per_epoch = sum(min(len(m), recipe.per_source) if recipe.per_source else len(m) for m in members)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    model = create_model(recipe.model, len(classes))
    steps = max(1, int(np.ceil(per_epoch / recipe.batch_size))) * recipe.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe.lr, total_steps=steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    model.train()
    done = 0
    for _ in range(recipe.epochs):
        chosen = np.concatenate([
            rng.choice(m, recipe.per_source, replace=False) if recipe.per_source and len(m) > recipe.per_source else m
            for m in members
        ])
        chosen = chosen[rng.permutation(len(chosen))]
        part = data.subset(chosen)
        points = augment_points(part.points, part.image_size, rng, recipe.augment)
        x = torch.as_tensor(part.features(points))
        y = torch.as_tensor(y_all[chosen])
        for start in range(0, len(y), recipe.batch_size):
            if done >= steps:
                break
            batch = slice(start, start + recipe.batch_size)
            if len(y[batch]) < 2:  # BatchNorm needs two samples
                continue
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            done += 1
    model.eval()
    return model


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
