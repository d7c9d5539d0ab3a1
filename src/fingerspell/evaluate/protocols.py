"""Fixed accuracy protocols that measure recognition of UNSEEN signers and photos.

Every number here counts a sample where MediaPipe found no hand as WRONG (the landmark model
cannot answer without a hand) and reports the no-hand rate beside it.

Protocols (`evaluate.accuracy_bench.run_accuracy_bench` runs them all and writes JSON + a Markdown table):

- `massey-loso`: Massey hands 1-4, leave one signer out (train on three, test on the fourth),
  letters only, J and Z excluded (they are motions; Massey has one frame of each), digits
  excluded. Reported twice: trained on the other Massey signers only, and trained on them
  plus every other shared landmark source (the held-out signer never seen in either).
- `asl-letters-grouped`: asl-letters by source photo (`<letter><n>`): the three augmented
  copies of a photo are held out together, 5 folds.
- `cross-dataset`: train on each of massey, asl-letters, asl-alphabet, asl-landmarks and
  "all" (all the others), test on each other dataset, common letters (J, Z excluded).
- `sign-mnist`: an image model trained on Sign-MNIST train, tested on its test split (the
  image path's number; Sign-MNIST's test set shares signers with train), through the training
  package's `train()`/`evaluate()`.

Massey and asl-letters are scored with test-time views (`TEST_VIEWS`, `load_views`): each
test image is also run through a few single detector attempts and the classifier's
probabilities are averaged over every hand found, exactly as `Predictor` does for still images
of the default bundle; the robust detection alone is reported beside it (`single_view_top1`).

The landmark protocols fit models with `fit_landmark_model` (`evaluate.landmark_fit`): in memory, the registered
`landmark-mlp` and the landmark-space augmentation of the `landmarks` input kind
(`LandmarkAugment`), because 30-odd fits per run through `train()` would write 30-odd run
folders and reports. `bench/train_default.py` trains the bundled default with the same
`FULL_RECIPE`, so the bench numbers describe the recipe of the shipped model.

Measured with the recipe (see bench/results/accuracy.md after `fingerspell bench accuracy`):
changes to augmentation strength, model width, epochs, label smoothing, z handling and
feature groups all moved the unseen-signer/photo numbers by less than one point, so the
simplest adequate recipe was kept.
"""
from __future__ import annotations
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.landmark_fit import FULL_RECIPE, QUICK_RECIPE, Recipe, fit_landmark_model, predict_set
from fingerspell.evaluate.landmark_sets import (
    LETTERS, MOTION_LETTERS, STATIC_LETTERS, LandmarkSet, canonical_label, load_landmark_set,
)
from fingerspell.evaluate.scoring import EMPTY_SCORE, Score, score_set
from fingerspell.evaluate.views import TEST_VIEWS, load_views

# Names the protocols' callers (tests, bench scripts) import from here; each lives in the
# module of its job.
__all__ = [
    "EMPTY_SCORE", "FULL_RECIPE", "LETTERS", "MOTION_LETTERS", "STATIC_LETTERS", "TEST_VIEWS", "LandmarkSet", "ProtocolResult",
    "QUICK_RECIPE", "Recipe", "Score", "asl_letters_grouped", "canonical_label", "cross_dataset", "fit_landmark_model",
    "grouped_folds", "load_landmark_set", "load_views", "massey_loso", "predict_set", "score_set",
]


@dataclass
class ProtocolResult:
    """One protocol's outcome: headline score, per-fold scores and notes."""

    name: str
    description: str
    score: Score
    folds: dict[str, Score] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def mean_fold_top1(self) -> float:
        values = [s.top1 for s in self.folds.values() if s.n]
        return float(np.mean(values)) if values else self.score.top1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "top1": round(self.score.top1, 4),
            "mean_fold_top1": round(self.mean_fold_top1, 4), "no_hand_rate": round(self.score.no_hand_rate, 4),
            "static_top1": round(self.score.top1_over(STATIC_LETTERS), 4),
            "n": self.score.n, "min_static_letter": _min_letter(self.score),
            "pooled": self.score.to_dict(), "folds": {k: v.to_dict() for k, v in self.folds.items()},
            "seconds": round(self.seconds, 1), **self.extra,
        }


def _min_letter(score: Score) -> list[Any] | None:
    worst = score.worst_letters(1, STATIC_LETTERS)
    return [worst[0][0], round(worst[0][1], 4)] if worst else None


def massey_loso(massey: LandmarkSet, recipe: Recipe, extra: Sequence[LandmarkSet] = (),
                progress: Any = None, temperature: float = 1.0) -> ProtocolResult:
    """Leave one Massey signer out; `extra` sets join every training fold (never the test).
    `temperature` calibrates the kept probabilities (softmax(logits / T))."""
    start = time.perf_counter()
    data = massey.letters(STATIC_LETTERS)
    signers = sorted(set(data.groups) - {""})
    if len(signers) < 2:
        raise FingerspellError(f"{massey.name}: leave-one-signer-out needs 2+ signers, found {signers}")
    tests = {signer: data.groups == signer for signer in signers}
    total, single, folds = _cross_validate(data, tests, STATIC_LETTERS, recipe, extra, progress, temperature)
    with_extra = f" + {', '.join(e.name for e in extra)}" if extra else ""
    return ProtocolResult(
        name="massey-loso" + ("+extra" if extra else ""),
        description=f"Massey leave-one-signer-out, 24 static letters; train: other Massey signers{with_extra}",
        score=total, folds=folds, seconds=time.perf_counter() - start, extra=_view_note(data, single),
    )


def _cross_validate(data: LandmarkSet, tests: dict[str, np.ndarray], classes: Sequence[str], recipe: Recipe,
                    extra: Sequence[LandmarkSet], progress: Any,
                    temperature: float = 1.0) -> tuple[Score, Score, dict[str, Score]]:
    """Per fold (name -> test mask): train on the rest plus `extra`, score the test part with
    its test-time views and without. Returns (pooled score, pooled single-view score, folds)."""
    total, single, folds = EMPTY_SCORE, EMPTY_SCORE, {}
    for name, test in tests.items():
        train, sources = _with_extra(data.subset(~test), data.name, extra, classes)
        model = fit_landmark_model(train, classes, recipe, sources)
        folds[name] = score_set(model, data.subset(test), classes, temperature)
        total = total.add(folds[name])
        single = single.add(score_set(model, data.subset(test).without_views(), classes))
        if progress:
            progress(f"  {name}: {folds[name].top1:.2%} (no hand {folds[name].no_hand_rate:.2%})")
    return total, single, folds


def _with_extra(train: LandmarkSet, name: str, extra: Sequence[LandmarkSet],
                classes: Sequence[str]) -> tuple[LandmarkSet, np.ndarray]:
    """The training set plus the `extra` datasets' samples of `classes`, with each sample's
    source dataset name (per-source sampling in training uses it)."""
    sources = np.array([name] * len(train))
    if not extra:
        return train, sources
    others = [e.letters(classes) for e in extra]
    sources = np.concatenate([sources] + [np.array([e.name] * len(e)) for e in others])
    return LandmarkSet.concat([train, *others]), sources


def _view_note(data: LandmarkSet, single: Score) -> dict[str, Any]:
    """With test-time views: the views used and the top-1 of the robust detection alone."""
    if not data.views:
        return {}
    return {"test_time_views": [v.name.split(":", 1)[-1] for v in data.views],
            "single_view_top1": round(single.top1, 4)}


def grouped_folds(groups: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """Split unique groups into k folds (by a seeded shuffle); returns a bool test mask per fold."""
    unique = np.array(sorted(set(groups)))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {g: i % k for i, g in zip(range(len(unique)), unique[order])}
    assignment = np.array([fold_of[g] for g in groups])
    return [assignment == i for i in range(k)]


def asl_letters_grouped(letters_set: LandmarkSet, recipe: Recipe, k: int = 5, extra: Sequence[LandmarkSet] = (),
                        progress: Any = None, temperature: float = 1.0) -> ProtocolResult:
    """asl-letters, k folds by source photo (`<letter><n>`), all 26 letters."""
    start = time.perf_counter()
    data = letters_set.letters(LETTERS)
    groups = np.where(data.groups == "", np.arange(len(data)).astype(str), data.groups)
    tests = {f"fold{i + 1}": test for i, test in enumerate(grouped_folds(groups, k, recipe.seed))}
    total, single, folds = _cross_validate(data, tests, LETTERS, recipe, extra, progress, temperature)
    with_extra = f" + {', '.join(e.name for e in extra)}" if extra else ""
    return ProtocolResult(
        name="asl-letters-grouped" + ("+extra" if extra else ""),
        description=f"asl-letters, {k} folds grouped by source photo, 26 letters; train: other photos{with_extra}",
        score=total, folds=folds, seconds=time.perf_counter() - start, extra=_view_note(data, single),
    )


def cross_dataset(sets: dict[str, LandmarkSet], recipe: Recipe, progress: Any = None) -> ProtocolResult:
    """Train on each dataset (and on all others together), test on every other one.

    Single view only (test-time views are not computed for the 16,000 other images: cost)."""
    start = time.perf_counter()
    sets = {name: s.without_views() for name, s in sets.items()}
    classes = STATIC_LETTERS
    names = list(sets)
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    total = EMPTY_SCORE
    for train_name in names + ["all"]:
        row: dict[str, dict[str, Any]] = {}
        model = None
        if train_name != "all":
            model = fit_landmark_model(sets[train_name], classes, recipe)
        for test_name in names:
            if test_name == train_name:
                continue
            if train_name == "all":  # all the other datasets, the test one left out
                others = [sets[n] for n in names if n != test_name]
                sources = np.concatenate([np.array([s.name] * len(s)) for s in others])
                model = fit_landmark_model(LandmarkSet.concat(others, "all"), classes, recipe, sources)
                total = total.add(score := score_set(model, sets[test_name], classes))
            else:
                score = score_set(model, sets[test_name], classes)
            row[test_name] = {"top1": round(score.top1, 4), "no_hand_rate": round(score.no_hand_rate, 4), "n": score.n}
            if progress:
                progress(f"  train {train_name} -> test {test_name}: {score.top1:.2%}")
        matrix[train_name] = row
    return ProtocolResult(
        name="cross-dataset",
        description="train on one dataset (or all the others), test on another; 24 static letters",
        score=total, extra={"matrix": matrix}, seconds=time.perf_counter() - start,
    )
