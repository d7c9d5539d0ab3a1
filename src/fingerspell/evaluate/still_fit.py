"""Still-image settings of a bundle fitted on unseen signers: temperatures, cascade bar, threshold.

Every number here comes from OUT-OF-FOLD predictions: Massey leave one signer out (24 static
letters) and asl-letters in 5 folds by source photo (26 letters), each fold's model trained
with the shipped model's recipe on everything else (the other signers / photos plus the other
shared sets), never on the held-out signer or photo. Each held-out image is classified twice,
as the predictor does: the fast path (one robust detection without landmark refinement) and
the full path (refined landmarks + the test-time views, probabilities averaged).

Fitted, in this order, on the pooled out-of-fold predictions (`fit_still`):
1. `temperature_fast`, `temperature_full`: minimum negative log-likelihood of the fast path's
   softmax(logits / T), and of the full path's mean over views of softmax(logits / T);
2. `escalate_below` (the cascade's bar) and `threshold` together: for each bar on BAR_GRID,
   lowest first, the threshold on THRESHOLD_GRID with the most letters given right minus
   letters given wrong on the cascade's answers (a wrong letter costs what a right one gains:
   with calibrated probabilities, a letter is given when it is more likely right than wrong;
   ties go to the lower threshold); the first bar whose letters given right reach, on every
   protocol, those of the reference (the full path for every image with the bundle's
   calibration temperature and threshold 0.5: the default before the cascade) is kept:
   the fewest escalations for the old default's accuracy. Bar 1 (escalate every image with a
   hand) when none does.

`cross_fitted` reports each protocol with settings fitted WITHOUT that fold (leave one fold
out over all nine folds), so the reported figures never saw their own test signer or photo.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.calibration import minimise_temperature, softmax
from fingerspell.evaluate.landmark_fit import Recipe, fit_landmark_model
from fingerspell.evaluate.landmark_sets import LETTERS, STATIC_LETTERS, LandmarkSet
from fingerspell.evaluate.protocols import grouped_folds
from fingerspell.evaluate.still_metrics import AnswerScore, score_answers

BAR_GRID = tuple(round(v, 2) for v in np.arange(0.5, 1.0, 0.02)) + (1.0,)
# The default before the cascade, the accuracy the cascade must keep: the full path for every
# image, probabilities softmax(logits / calibration T) averaged over views, threshold 0.5.
REFERENCE_THRESHOLD = 0.5
THRESHOLD_GRID = tuple(round(v, 2) for v in np.arange(0.0, 0.96, 0.01))


@dataclass
class FoldPredictions:
    """Out-of-fold logits of one held-out fold: fast path and full path (base + views)."""

    protocol: str
    fold: str
    classes: list[str]
    labels: np.ndarray      # int [n]
    fast: np.ndarray        # float [n, C] logits; rows where no hand was found are zeros
    fast_found: np.ndarray  # bool [n]
    full: np.ndarray        # float [V + 1, n, C]: the refined robust detection, then each view
    full_found: np.ndarray  # bool [V + 1, n]


def fast_probs(f: FoldPredictions, temperature: float) -> np.ndarray:
    """The fast path's probabilities [n, C] (zeros where it found no hand)."""
    return np.where(f.fast_found[:, None], softmax(f.fast, temperature), 0.0)


def full_probs(f: FoldPredictions, temperature: float) -> np.ndarray:
    """The full path's probabilities: the mean over the refined detection and every view that
    found the hand (zeros where the refined detection found none), as `Predictor` does."""
    p = softmax(f.full, temperature) * f.full_found[..., None]
    count = np.maximum(f.full_found.sum(axis=0), 1)[:, None]
    return np.where(f.full_found[0][:, None], p.sum(axis=0) / count, 0.0)


def cascade_probs(f: FoldPredictions, t_fast: float, t_full: float, bar: float) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities [n, C], escalated [n]): the fast answer, or the full path's where the
    fast path found a hand and its top probability is under `bar` (as `infer.cascade`; a
    full path that finds no hand keeps the fast answer)."""
    fast = fast_probs(f, t_fast)
    escalate = f.fast_found & (fast.max(axis=1) < bar) & f.full_found[0]
    return np.where(escalate[:, None], full_probs(f, t_full), fast), escalate


def _nll(folds: Sequence[FoldPredictions], probs_of: Callable[[FoldPredictions], np.ndarray],
         found_of: Callable[[FoldPredictions], np.ndarray]) -> float:
    total, count = 0.0, 0
    for f in folds:
        keep = found_of(f)
        p = probs_of(f)[keep, f.labels[keep]]
        total -= float(np.log(np.maximum(p, 1e-12)).sum())
        count += int(keep.sum())
    return total / max(count, 1)


def _pooled(folds: Sequence[FoldPredictions], probs: Sequence[np.ndarray], threshold: float) -> tuple[int, int, int]:
    """(right, wrong, n) at `threshold` over all folds."""
    right = wrong = n = 0
    for f, p in zip(folds, probs):
        given = (p.sum(axis=1) > 0) & (p.max(axis=1) >= threshold)
        ok = p.argmax(axis=1) == f.labels
        right += int((given & ok).sum())
        wrong += int((given & ~ok).sum())
        n += len(f.labels)
    return right, wrong, n


def _letters_right_by_protocol(folds: Sequence[FoldPredictions], probs: Sequence[np.ndarray],
                                threshold: float) -> dict[str, float]:
    right: dict[str, list[int]] = {}
    for f, p in zip(folds, probs):
        ok = (p.sum(axis=1) > 0) & (p.argmax(axis=1) == f.labels) & (p.max(axis=1) >= threshold)
        r = right.setdefault(f.protocol, [0, 0])
        r[0] += int(ok.sum())
        r[1] += len(ok)
    return {k: v[0] / v[1] for k, v in right.items()}


def _best_threshold(folds: Sequence[FoldPredictions], probs: Sequence[np.ndarray]) -> float:
    best, threshold = -np.inf, 0.5
    for t in THRESHOLD_GRID:
        right, wrong, _ = _pooled(folds, probs, t)
        if right - wrong > best:
            best, threshold = right - wrong, t
    return float(threshold)


def fit_still(folds: Sequence[FoldPredictions], calibration_temperature: float = 1.0) -> dict[str, Any]:
    """The bundle's "still" settings fitted on `folds` (see the module docstring);
    `calibration_temperature` is the bundle's "calibration" T (the reference's).
    Raises FingerspellError with no predictions."""
    if not folds or not sum(len(f.labels) for f in folds):
        raise FingerspellError("no out-of-fold predictions to fit still-image settings on")
    t_fast = minimise_temperature(lambda t: _nll(folds, lambda f: fast_probs(f, t), lambda f: f.fast_found))
    t_full = minimise_temperature(lambda t: _nll(folds, lambda f: full_probs(f, t), lambda f: f.full_found[0]))
    reference = _letters_right_by_protocol(folds, [full_probs(f, calibration_temperature) for f in folds],
                                           REFERENCE_THRESHOLD)
    bar, threshold = 1.0, None
    for candidate in BAR_GRID:
        probs = [cascade_probs(f, t_fast, t_full, candidate)[0] for f in folds]
        cut = _best_threshold(folds, probs)
        right = _letters_right_by_protocol(folds, probs, cut)
        if all(right[k] >= reference[k] for k in reference):
            bar, threshold = candidate, cut
            break
    if threshold is None:
        threshold = _best_threshold(folds, [cascade_probs(f, t_fast, t_full, 1.0)[0] for f in folds])
    return {"threshold": threshold, "escalate_below": float(bar), "temperature_fast": round(t_fast, 4),
            "temperature_full": round(t_full, 4)}


def score_settings(folds: Sequence[FoldPredictions], settings: dict[str, Any], path: str = "cascade") -> dict[str, Any]:
    """Score each protocol (pooled over its folds) with `settings` on the given path:
    "cascade", "fast" or "full". Returns {protocol: AnswerScore dict + escalated share}."""
    by_protocol: dict[str, list[tuple[FoldPredictions, np.ndarray, np.ndarray]]] = {}
    for f in folds:
        if path == "fast":
            p, esc = fast_probs(f, settings["temperature_fast"]), np.zeros(len(f.labels), bool)
        elif path == "full":
            p, esc = full_probs(f, settings["temperature_full"]), f.fast_found.copy()
        else:
            p, esc = cascade_probs(f, settings["temperature_fast"], settings["temperature_full"],
                                   settings["escalate_below"])
        by_protocol.setdefault(f.protocol, []).append((f, p, esc))
    out = {}
    for name, parts in by_protocol.items():
        classes = parts[0][0].classes
        score = score_answers(np.concatenate([p for _, p, _ in parts]),
                              np.concatenate([f.labels for f, _, _ in parts]), classes, settings["threshold"],
                              letters=STATIC_LETTERS)
        out[name] = {**score.to_dict(curve=False), "escalated": round(float(np.concatenate([e for *_, e in parts]).mean()), 4),
                     "curve": score.curve}
    return out


def cross_fitted(folds: Sequence[FoldPredictions],
                 calibration_temperature: float = 1.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each fold scored with settings fitted on the OTHER folds; pooled per protocol.
    Returns ({protocol: scores}, [settings fitted without each fold])."""
    scored: dict[str, list[tuple[FoldPredictions, np.ndarray, np.ndarray, float]]] = {}
    fitted = []
    for i, f in enumerate(folds):
        settings = fit_still([g for j, g in enumerate(folds) if j != i], calibration_temperature)
        fitted.append({"held_out": f"{f.protocol}/{f.fold}", **settings})
        p, esc = cascade_probs(f, settings["temperature_fast"], settings["temperature_full"], settings["escalate_below"])
        given = (p.sum(axis=1) > 0) & (p.max(axis=1) >= settings["threshold"])
        # Each fold has its own threshold: withheld answers are zeroed, then scored at threshold 0
        # for letters given right, and the raw probabilities for top-1 / ECE.
        scored.setdefault(f.protocol, []).append((f, p, esc, given))
    out = {}
    for name, parts in scored.items():
        probs = np.concatenate([p for _, p, _, _ in parts])
        labels = np.concatenate([f.labels for f, *_ in parts])
        given = np.concatenate([g for *_, g in parts])
        score: AnswerScore = score_answers(probs, labels, parts[0][0].classes, 0.0, letters=STATIC_LETTERS)
        ok = (probs.sum(axis=1) > 0) & (probs.argmax(axis=1) == labels)
        out[name] = {**score.to_dict(curve=False), "letters_right": round(float((ok & given).mean()), 4),
                     "coverage": round(float(given.mean()), 4),
                     "given_accuracy": round(float((ok & given).sum() / max(1, given.sum())), 4),
                     "threshold": "fitted per fold", "escalated": round(float(np.concatenate([e for _, _, e, _ in parts]).mean()), 4)}
    return out, fitted


def fold_sets(names: Sequence[str], tested: Sequence[str] = ("massey", "asl-letters")
              ) -> tuple[dict[str, LandmarkSet], dict[str, LandmarkSet]]:
    """(sets, fast) for `out_of_fold_predictions`: every named dataset's cached landmarks, and
    for the `tested` ones their test-time views and fast-path detections (made once and cached
    in FINGERSPELL_HOME/landmark-views/). Raises DatasetNotFoundError for a name not imported
    and FingerspellError for one without landmarks."""
    from fingerspell.data.index import Dataset
    from fingerspell.evaluate.landmark_sets import load_landmark_set
    from fingerspell.evaluate.views import load_detected, load_views

    sets, fast = {}, {}
    for name in names:
        with Dataset.load(name) as ds:
            sets[name] = load_landmark_set(ds)
            sets[name].name = name
            if name in tested:
                sets[name].views = tuple(load_views(ds))
                fast[name] = load_detected(ds, {"refine_steps": 0}, "fast")
    return sets, fast


def out_of_fold_predictions(sets: dict[str, LandmarkSet], fast: dict[str, LandmarkSet], recipe: Recipe,
                            k: int = 5, log: Any = None,
                            tested: Sequence[str] = ("massey", "asl-letters"),
                            extra: Callable[[str, np.ndarray], list[LandmarkSet]] | None = None,
                            fold_seed: int | None = None) -> list[FoldPredictions]:
    """Fold models for Massey leave-one-signer-out and asl-letters grouped by photo (k folds,
    drawn with `fold_seed`, default the recipe's seed; `tested` names which of the two), each
    trained on the rest plus every other set in `sets`; `sets["massey"]` and
    `sets["asl-letters"]` carry their test-time views, `fast` the same samples detected without
    refinement (same order). `extra(name, rows)`, when given, returns more landmark sets to
    train on for the rows (bool mask over `sets[name]`) a fold model may see (an experiment's
    other readings of the same photos: `bench/still_variants.py`). Raises FingerspellError
    when a set is missing."""
    for name in tested:
        if name not in sets or name not in fast:
            raise FingerspellError(f"still-image fit needs the {name!r} landmarks and its fast-path detections")
    out: list[FoldPredictions] = []
    for name, protocol, classes in (("massey", "massey-loso", STATIC_LETTERS), ("asl-letters", "asl-letters-grouped", LETTERS)):
        if name not in tested:
            continue
        keep = np.isin(sets[name].labels, classes)
        data, quick = sets[name].subset(keep), fast[name].subset(keep)
        if name == "massey":
            tests = {s: data.groups == s for s in sorted(set(data.groups) - {""})}
        else:
            groups = np.where(data.groups == "", np.arange(len(data)).astype(str), data.groups)
            seed = recipe.seed if fold_seed is None else fold_seed
            tests = {f"fold{i + 1}": t for i, t in enumerate(grouped_folds(groups, k, seed))}
        others = [s.without_views().letters(classes) for n, s in sets.items() if n != name]
        if extra is not None:
            others += [e.letters(classes) for n, s in sets.items() if n != name for e in extra(n, np.ones(len(s), bool))]
        for fold, test in tests.items():
            train = [data.subset(~test).without_views()]
            if extra is not None:
                rows = np.zeros(len(sets[name]), bool)
                rows[np.flatnonzero(keep)[~test]] = True
                train += [e.letters(classes) for e in extra(name, rows)]
            parts = train + others
            sources = np.concatenate([np.full(len(p), name if i < len(train) else p.name.split(":")[0])
                                      for i, p in enumerate(parts)])
            model = fit_landmark_model(LandmarkSet.concat(parts), classes, recipe, sources)
            held, held_fast = data.subset(test), quick.subset(test)
            index = {c: i for i, c in enumerate(classes)}
            views = (held.without_views(), *held.views)
            out.append(FoldPredictions(
                protocol=protocol, fold=fold, classes=list(classes),
                labels=np.array([index[label] for label in held.labels]),
                fast=_logits(model, held_fast, len(classes)), fast_found=held_fast.found.copy(),
                full=np.stack([_logits(model, v, len(classes)) for v in views]),
                full_found=np.stack([v.found & held.found for v in views]),
            ))
            if log:
                f = out[-1]
                log(f"  {protocol} {fold}: {len(f.labels)} held out, fast top-1 "
                    f"{(f.fast_found & (f.fast.argmax(1) == f.labels)).mean():.1%}")
    return out


def _logits(model: Any, data: LandmarkSet, num_classes: int) -> np.ndarray:
    import torch

    logits = np.zeros((len(data), num_classes))
    if data.found.any():
        with torch.no_grad():
            logits[data.found] = model(torch.as_tensor(data.features())).numpy()
    return logits
