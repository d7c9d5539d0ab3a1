"""The per-source sampled landmark fit: the one training loop of the shipped default model
(`fingerspell train --recipe recipes/default.yaml`) and of the accuracy protocols
(`evaluate.landmark_fit.fit_landmark_model`, 30-odd in-memory fits a bench run).

    model = SampledFit(data, num_classes, recipe).fit()

Each epoch draws at most `recipe.per_source` samples from every source (fresh ones each
epoch, so the 10,000 near-identical webcam frames neither drown Massey's four signers nor slow
every epoch; over the epochs all data is used), shuffles them, augments their landmarks and
trains one pass in batches. No validation split: the protocols hold out whole signers
themselves, and the shipped model trains on everything.

Determinism: torch is seeded once (before the model is built), one NumPy generator seeded by
`recipe.seed` makes every draw (sampling, shuffle, augmentation) in the order below. That
order and the arithmetic decide the default model's bytes: change them only together with a
rebuild of the default bundle (bench/train_default.py, then `cmp`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fingerspell.errors import TrainingError
from fingerspell.hands.features import landmark_features_batch
from fingerspell.train.landmark_inputs import LandmarkAugment, augment_points


@dataclass(frozen=True)
class Recipe:
    """How a per-source sampled landmark model is trained (the protocols' and the default's)."""

    model: str = "landmark-mlp"
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.002              # the peak of the one-cycle schedule (AdamW)
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


@dataclass
class TrainingLandmarks:
    """Samples with a hand, as arrays: what a sampled fit trains on.

    points float32 [N, 21, 3]; handedness str [N] ("" unknown); image_size float [N, 2];
    targets int [N] (class indexes); sources str [N] (where each sample came from).
    """

    points: np.ndarray
    handedness: np.ndarray
    image_size: np.ndarray
    targets: np.ndarray
    sources: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def features(self, rows: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """Features of `rows` (float32 [len(rows), F]), from `points` (already those rows) if given."""
        pts = self.points[rows] if points is None else points
        return landmark_features_batch(pts, list(self.handedness[rows]), self.image_size[rows])


@dataclass
class EpochStats:
    """What one epoch of a sampled fit did (for the run log and checkpoints)."""

    epoch: int
    samples: int
    train_loss: float
    train_acc: float
    lr: float


class SampledFit:
    """One sampled fit of `recipe.model`; `fit()` trains and returns the model in eval mode.

    on_epoch: called with each epoch's EpochStats (the run log); it must not draw random
    numbers. Raises TrainingError when there are fewer than 2 samples.
    """

    def __init__(self, data: TrainingLandmarks, num_classes: int, recipe: Recipe,
                 on_epoch: Callable[[EpochStats], None] | None = None):
        if len(data) < 2:
            raise TrainingError("fewer than 2 training samples with a hand found")
        self.data = data
        self.num_classes = num_classes
        self.recipe = recipe
        self.on_epoch = on_epoch
        # Sources in sorted order (np.unique), each one's rows in data order.
        self.members = [np.flatnonzero(data.sources == name) for name in np.unique(data.sources)]
        per_epoch = sum(min(len(m), recipe.per_source) if recipe.per_source else len(m) for m in self.members)
        self.steps_per_epoch = max(1, int(np.ceil(per_epoch / recipe.batch_size)))

    def fit(self) -> Any:
        import torch

        from fingerspell.models import create_model

        recipe = self.recipe
        torch.manual_seed(recipe.seed)
        rng = np.random.default_rng(recipe.seed)
        model = create_model(recipe.model, self.num_classes)
        steps = self.steps_per_epoch * recipe.epochs
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe.lr, total_steps=steps)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
        model.train()
        done = 0
        for epoch in range(1, recipe.epochs + 1):
            x, y = self._draw_epoch(rng)
            loss_sum, correct, seen = 0.0, 0, 0
            for start in range(0, len(y), recipe.batch_size):
                if done >= steps:
                    break
                batch = slice(start, start + recipe.batch_size)
                if len(y[batch]) < 2:  # BatchNorm needs two samples
                    continue
                logits = model(x[batch])
                loss = loss_fn(logits, y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                done += 1
                # Read-only bookkeeping for the run log (draws nothing, changes nothing).
                loss_sum += float(loss.detach()) * len(y[batch])
                correct += int((logits.detach().argmax(1) == y[batch]).sum())
                seen += len(y[batch])
            if not np.isfinite(loss_sum):
                raise TrainingError(f"loss became {loss_sum} in epoch {epoch}: lower lr, or check the data")
            if self.on_epoch is not None:
                self.on_epoch(EpochStats(epoch, seen, loss_sum / max(1, seen), correct / max(1, seen),
                                         float(optimizer.param_groups[0]["lr"])))
        model.eval()
        return model

    def _draw_epoch(self, rng: np.random.Generator) -> tuple[Any, Any]:
        """This epoch's samples (per-source draw, shuffled, augmented) as (features, targets)."""
        import torch

        recipe = self.recipe
        chosen = np.concatenate([
            rng.choice(m, recipe.per_source, replace=False) if recipe.per_source and len(m) > recipe.per_source else m
            for m in self.members
        ])
        chosen = chosen[rng.permutation(len(chosen))]
        points = augment_points(self.data.points[chosen], self.data.image_size[chosen], rng, recipe.augment)
        return torch.as_tensor(self.data.features(chosen, points)), torch.as_tensor(self.data.targets[chosen])
