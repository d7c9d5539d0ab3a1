"""Honest confidence: temperature scaling fitted on signers the models never saw.

A classifier's softmax is rarely calibrated on new people (trained with label smoothing it is
timid on its own data and can be overconfident on others). Temperature scaling (Guo et al.
2017) divides the logits by one number T before the softmax; T is fitted to minimise the
negative log-likelihood of OUT-OF-FOLD logits: each sample scored by a model trained without
its signer / source photo (leave-one-group-out with `fit_landmark_model`, the recipe of the
shipped model). The expected calibration error (ECE, 15 equal-width confidence bins) is
reported before and after. `Predictor` and the browser apply softmax(logits / T) with T from
bundle.json "calibration".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.protocols import LandmarkSet, Recipe, fit_landmark_model
from fingerspell.evaluate.still_metrics import reliability


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / temperature) over the last axis (classes), in float64."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the confidence-weighted gap between top-1 confidence and accuracy, over `bins`
    equal-width bins of confidence (`still_metrics.reliability`, the one evaluation path)."""
    return reliability(probs.max(axis=1), probs.argmax(axis=1) == labels, bins)[0]


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.log(np.maximum(p, 1e-12)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the NLL (`minimise_temperature`).

    Raises FingerspellError with no samples.
    """
    if len(labels) == 0:
        raise FingerspellError("no out-of-fold samples to fit a temperature on")
    return minimise_temperature(lambda t: negative_log_likelihood(logits, labels, t))


def minimise_temperature(loss: Callable[[float], float], low: float = 0.05, high: float = 20.0) -> float:
    """The temperature in [low, high] that minimises `loss` (golden-section search on log T,
    60 steps; the loss is assumed to have one minimum there)."""
    lo, hi = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = (loss(float(np.exp(v))) for v in (a, b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = loss(float(np.exp(a)))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(float(np.exp(b)))
    return float(np.exp((lo + hi) / 2))


def out_of_fold_logits(data: LandmarkSet, classes: Sequence[str], recipe: Recipe = Recipe(),
                       sources: np.ndarray | None = None, log: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logits [M, C], class index [M], group [M]) for every sample with a hand and a label in
    `classes`, each from a model trained without its group (`data.groups`: signer / photo).

    Raises FingerspellError when there are fewer than two groups.
    """
    import torch

    keep = data.found & np.isin(data.labels, list(classes))
    groups = np.unique(data.groups[keep])
    if len(groups) < 2:
        raise FingerspellError(f"{data.name}: calibration needs at least two signers / groups")
    index = {c: i for i, c in enumerate(classes)}
    all_logits, all_labels, all_groups = [], [], []
    for group in groups:
        train = ~(data.groups == group)
        model = fit_landmark_model(data.subset(train), classes, recipe,
                                   sources=None if sources is None else np.asarray(sources)[train])
        test = data.subset(keep & (data.groups == group))
        with torch.no_grad():
            logits = model(torch.as_tensor(test.features())).numpy().astype(np.float64)
        all_logits.append(logits)
        all_labels.append(np.array([index[label] for label in test.labels]))
        all_groups.append(np.full(len(test), group))
        if log:
            log(f"  held out {group}: {len(test)} samples, top-1 {(logits.argmax(1) == all_labels[-1]).mean():.1%}")
    return np.concatenate(all_logits), np.concatenate(all_labels), np.concatenate(all_groups)


def calibration_summary(logits: np.ndarray, labels: np.ndarray, groups: np.ndarray, fitted_on: str) -> dict[str, Any]:
    """Fit T and report ECE / NLL / top-1 before and after, overall and per group."""
    temperature = fit_temperature(logits, labels)
    before, after = softmax(logits), softmax(logits, temperature)
    per_group = {}
    for group in np.unique(groups):
        m = groups == group
        per_group[str(group)] = {"n": int(m.sum()), "top1": round(float((before[m].argmax(1) == labels[m]).mean()), 4),
                                 "ece_before": round(expected_calibration_error(before[m], labels[m]), 4),
                                 "ece_after": round(expected_calibration_error(after[m], labels[m]), 4)}
    return {
        "temperature": round(temperature, 4),
        "fitted_on": fitted_on,
        "n": int(len(labels)),
        "top1": round(float((before.argmax(1) == labels).mean()), 4),
        "ece_before": round(expected_calibration_error(before, labels), 4),
        "ece_after": round(expected_calibration_error(after, labels), 4),
        "nll_before": round(negative_log_likelihood(logits, labels, 1.0), 4),
        "nll_after": round(negative_log_likelihood(logits, labels, temperature), 4),
        "per_group": per_group,
    }
