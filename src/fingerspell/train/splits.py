"""Which samples a run trains and validates on: the dataset's splits, or a validation split
carved from train in memory when it has none."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError
from fingerspell.train.config import TrainConfig


def _stratified_pick(samples: list[Sample], fraction: float | None, count: int | None, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Split samples into (picked, rest), per class, deterministically by seed. Either a
    fraction of each class or `count` samples in all (proportional per class)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Sample]] = {}
    for s in samples:
        by_label.setdefault(s.label, []).append(s)
    total = len(samples)
    picked_ids: set[int] = set()
    for label in sorted(by_label):
        group = by_label[label]
        order = rng.permutation(len(group))
        if fraction is not None:
            k = int(round(len(group) * fraction))
            k = max(1, k) if len(group) >= 2 else 0  # every class seen in val, none emptied from train
        else:
            k = max(1, int(round(len(group) * count / total)))
        picked_ids.update(group[i].id for i in order[:k])
    picked = [s for s in samples if s.id in picked_ids]
    rest = [s for s in samples if s.id not in picked_ids]
    return picked, rest


@dataclass
class Splits:
    train: list[Sample]
    val: list[Sample]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"train": len(self.train), "val": len(self.val), "notes": self.notes}


def resolve_splits(ds: Dataset, cfg: TrainConfig) -> Splits:
    """Training and validation samples: the dataset's splits, or a val split carved from train
    in memory (stratified, by seed) when the dataset has none. Raises TrainingError."""
    notes: list[str] = []
    present = ds.splits()
    if "train" in present:
        train = list(ds.samples(split="train"))
    elif not present:
        train = list(ds.samples())
        notes.append(f"dataset {ds.name!r} has no splits: training on all samples, no test split held out "
                     f"(run `fingerspell data split {ds.name}` to keep one)")
    else:
        raise TrainingError(f"dataset {ds.name!r} has splits {', '.join(present)} but no 'train' split")
    if not train:
        raise TrainingError(f"dataset {ds.name!r} has no training samples")
    if "val" in present and ds.count("val") > 0:
        val = list(ds.samples(split="val"))
    else:
        val, train = _stratified_pick(train, cfg.val_fraction, None, cfg.seed)
        notes.append(f"no val split in {ds.name!r}: carved {len(val)} samples ({cfg.val_fraction:.0%} per class, "
                     f"seed {cfg.seed}) from train, in memory")
    if cfg.max_train_samples and len(train) > cfg.max_train_samples:
        train, _ = _stratified_pick(train, None, cfg.max_train_samples, cfg.seed)
        notes.append(f"training on a stratified subset of {len(train)} samples (max_train_samples)")
    if cfg.max_val_samples and len(val) > cfg.max_val_samples:
        val, _ = _stratified_pick(val, None, cfg.max_val_samples, cfg.seed + 1)
        notes.append(f"validating on a stratified subset of {len(val)} samples (max_val_samples)")
    if not val:
        raise TrainingError(f"dataset {ds.name!r}: no validation samples (too few samples per class to carve a val split)")
    return Splits(train, val, notes)


def select_samples(dataset: Dataset, split: str | Sequence[Sample] | None) -> list[Sample]:
    """The samples of a split name, all samples for None, or the given list as is."""
    if split is None or isinstance(split, str):
        return list(dataset.samples(split=split))
    return list(split)
