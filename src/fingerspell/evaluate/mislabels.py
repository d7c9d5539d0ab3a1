"""Which given labels the out-of-sample models disagree with: the rule `data issues` flags by.

`flag_mislabels(labels, probs, classes)` takes the out-of-sample probabilities of the samples
with a hand and returns the likely label errors, each with the letter to suggest and a score.

Twins: in ASL some digits are made with a letter's hand shape (0 = O, 2 = V, 6 = W, 9 = F),
and a still photo of Z shows the 1 hand shape (Z is traced in the air with it). No classifier
tells such a pair apart from one photo, so where a dataset has both members, their
probabilities are pooled before deciding: a `2` that looks like a V is not flagged, and a V
relabelled as 2 cannot be found (bench_issues.py counts those flips apart). The pairs come
from the ASL hand shapes, not from any measurement.

The rule: another letter is the most likely, and its out-of-sample probability beats the
given label's (cleanlab's self-confidence label quality, twins pooled) by more than
FLAG_MARGIN. Chosen on asl-letters flips (bench/issue_rule_selection.py), never on Massey's. `likely_errors` picks the samples
the second round of fold models (crossval) is fitted without: as many of the lowest
self-confidence as cleanlab estimates there are label errors.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Pairs of classes made with one hand shape (see the module docstring), compared case-blind.
TWINS: tuple[tuple[str, ...], ...] = (("O", "0"), ("V", "2"), ("W", "6"), ("F", "9"), ("Z", "1"))
# Flag when the most likely letter's out-of-sample probability beats the given label's (twins
# pooled) by more than this. Chosen on asl-letters with 5% of the labels flipped (seeds 100-102,
# two rounds of fold models; bench/issue_rule_selection.py): the highest precision at recall
# >= 0.8 among cleanlab's filters, shares of cleanlab's estimated number of errors, margins
# 0.4-0.8 and thresholds on the given label's probability of 0.01-0.2 (README).
FLAG_MARGIN = 0.7
# cleanlab's estimate of the number of label errors, for the samples round 2 is fitted without.
FLAG_ESTIMATE = "off_diagonal_calibrated"


@dataclass
class Mislabels:
    """What `flag_mislabels` found, per sample of its input (same order).

    flagged: bool [N]. suggested: int [N] the most likely class outside the given label's twin
    group (a column of `probs`). score: float [N] 1 - self-confidence (twins pooled), 0-1.
    confidence: float [N] the probability of the suggested class.
    """

    flagged: np.ndarray
    suggested: np.ndarray
    score: np.ndarray
    confidence: np.ndarray


def twin_groups(classes: Sequence[str]) -> np.ndarray:
    """Group number per class: a class's own index, or the first member's for a twin present
    in `classes` (letters compared case-blind: Massey's folders are lower-case)."""
    upper = [c.upper() for c in classes]
    group = np.arange(len(classes))
    for pair in TWINS:
        members = [upper.index(c) for c in pair if c in upper]
        if len(members) > 1:
            group[members] = members[0]
    return group


def flag_mislabels(labels: np.ndarray, probs: np.ndarray, classes: Sequence[str]) -> Mislabels:
    """Likely label errors among samples with given `labels` (int [N], columns of `probs`) and
    out-of-sample `probs` (float [N, C]) over `classes` (C names): the most likely class is
    outside the given label's twin group and beats the given label's group's probability by
    more than FLAG_MARGIN. Classes no sample is labelled with are left out (probabilities renormalised).

    Raises ValueError when the shapes disagree.
    """
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(labels) != len(probs) or probs.shape[1] != len(classes):
        raise ValueError(f"labels {labels.shape}, probs {probs.shape} and {len(classes)} classes disagree")
    n = len(labels)
    given_classes = np.zeros(len(classes), bool)
    given_classes[labels] = True
    probs = np.where(given_classes, probs, 0.0)
    probs = probs / np.maximum(probs.sum(1, keepdims=True), 1e-12)
    group = twin_groups(classes)
    # Pool twins into one column each (cleanlab wants columns 0..K-1, every one given to a sample).
    pooled_columns, column_of_class = np.unique(group[given_classes], return_inverse=True)
    pooled = np.zeros((n, len(pooled_columns)))
    np.add.at(pooled.T, column_of_class, probs[:, given_classes].T)
    given = np.searchsorted(pooled_columns, group[labels])
    quality = np.ones(n)
    if len(pooled_columns) >= 2:
        quality = get_label_quality_scores(given, pooled, method="self_confidence")
    other = probs.copy()
    other[group[None, :] == group[labels][:, None]] = -1.0  # never suggest the given label's twin group
    suggested = other.argmax(1)
    confidence = probs[np.arange(n), suggested]
    flagged = (pooled.argmax(1) != given) & (pooled.max(1) - quality > FLAG_MARGIN)
    return Mislabels(flagged=flagged, suggested=suggested, score=1.0 - quality, confidence=confidence)


def likely_errors(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """bool [N]: the samples a second round of fold models is fitted without: the lowest
    self-confidence first, as many as cleanlab estimates are label errors (FLAG_ESTIMATE;
    no twins pooled, so a digit that looks like its letter is left out too)."""
    from cleanlab.count import num_label_issues

    labels = np.asarray(labels)
    present, given = np.unique(labels, return_inverse=True)
    out = np.zeros(len(labels), bool)
    if len(present) < 2:
        return out
    restricted = np.asarray(probs, dtype=np.float64)[:, present]
    restricted = restricted / np.maximum(restricted.sum(1, keepdims=True), 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        count = int(num_label_issues(given, restricted, estimation_method=FLAG_ESTIMATE))
    out[np.argsort(restricted[np.arange(len(labels)), given], kind="stable")[:count]] = True
    return out
