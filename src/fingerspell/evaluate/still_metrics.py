"""One evaluation path: what a set of still-image answers is worth, from probabilities and labels.

`score_answers(probs, labels, classes, threshold)` is what `fingerspell eval`, `fingerspell
bench accuracy` and the summary of `fingerspell predict FOLDER` (files in folders named after
letters) all report:

- letters given right: the share of ALL samples whose top letter reaches `threshold` and is the
  right one (a withheld answer, no hand found and a wrong letter all count against it);
- top-1: the share whose top letter is right, ignoring the threshold (no hand = wrong);
- coverage: the share given a letter (top probability >= threshold);
- accuracy of the letters given (right / given);
- ECE: expected calibration error of the top probability, over the samples with a hand
  (15 equal-width bins: the confidence-weighted gap between confidence and accuracy);
- per-letter top-1 and letters given right, and the three letters with the lowest top-1;
- the coverage/accuracy curve: for each threshold on a grid, coverage, accuracy of the letters
  given and letters given right.

A row of `probs` that is all zeros means "no hand found"; a label of -1 means "not one of the
classes" (counted, never right).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError

ECE_BINS = 15
CURVE_THRESHOLDS = tuple(round(v, 2) for v in np.linspace(0.0, 0.99, 34))


@dataclass
class AnswerScore:
    """The scores of one set of answers at one threshold (see the module docstring)."""

    n: int
    threshold: float
    letters_right: float
    top1: float
    coverage: float
    given_accuracy: float
    ece: float
    no_hand: int
    per_letter: dict[str, dict[str, Any]]  # letter -> {"n", "top1", "letters_right"}
    worst: list[tuple[str, float]]         # the three lowest per-letter top-1
    curve: list[dict[str, float]] = field(default_factory=list)
    reliability: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, curve: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n, "threshold": round(self.threshold, 4), "letters_right": _round(self.letters_right),
            "top1": _round(self.top1), "coverage": _round(self.coverage), "given_accuracy": _round(self.given_accuracy),
            "ece": _round(self.ece), "no_hand": self.no_hand,
            "worst_letters": [[k, _round(v)] for k, v in self.worst],
            "per_letter": {k: {"n": v["n"], "top1": _round(v["top1"]), "letters_right": _round(v["letters_right"])}
                           for k, v in self.per_letter.items()},
        }
        if curve:
            data["curve"] = self.curve
        return data

    def line(self) -> str:
        """One line a person reads."""
        worst = ", ".join(f"{k} {v:.0%}" for k, v in self.worst)
        return (f"letters given right {self.letters_right:.1%} at threshold {self.threshold:.2f} "
                f"(top-1 {self.top1:.1%}, coverage {self.coverage:.1%}, ECE {self.ece:.3f}; worst {worst})")


def _round(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the per-bin table (equal-width bins over (0, 1]; a
    confidence of exactly 0 falls in the first bin)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    table, ece, n = [], 0.0, max(1, len(confidence))
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = (confidence > lo) & (confidence <= hi) if i else (confidence >= lo) & (confidence <= hi)
        count = int(inside.sum())
        acc = float(correct[inside].mean()) if count else float("nan")
        mean_conf = float(confidence[inside].mean()) if count else float("nan")
        if count:
            ece += abs(acc - mean_conf) * count / n
        table.append({"low": float(lo), "high": float(hi), "count": count, "accuracy": acc, "confidence": mean_conf})
    return float(ece), table


def coverage_curve(confidence: np.ndarray, correct: np.ndarray, has_hand: np.ndarray,
                   thresholds: Sequence[float] = CURVE_THRESHOLDS) -> list[dict[str, float]]:
    """For each threshold: coverage (share given a letter), accuracy of the letters given,
    letters given right (share of all samples)."""
    n = max(1, len(confidence))
    out = []
    for t in thresholds:
        given = has_hand & (confidence >= t)
        right = int((given & correct).sum())
        out.append({"threshold": float(t), "coverage": round(given.sum() / n, 4),
                    "given_accuracy": round(right / given.sum(), 4) if given.any() else float("nan"),
                    "letters_right": round(right / n, 4)})
    return out


def score_answers(probs: np.ndarray, labels: np.ndarray, classes: Sequence[str], threshold: float,
                  letters: Sequence[str] | None = None) -> AnswerScore:
    """Score answers: `probs` float [N, C] (probabilities in `classes` order; an all-zero row =
    no hand found), `labels` int [N] (class index, -1 = a label outside `classes`).
    `letters` limits the per-letter table and the worst three (e.g. the static letters).

    Raises FingerspellError when the shapes disagree or the threshold is outside 0..1.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if probs.ndim != 2 or probs.shape[0] != len(labels) or (len(labels) and probs.shape[1] != len(classes)):
        raise FingerspellError(f"probabilities {probs.shape} do not match {len(labels)} labels of {len(classes)} classes")
    if not 0.0 <= threshold <= 1.0:
        raise FingerspellError(f"threshold must be between 0 and 1, got {threshold}")
    n = len(labels)
    has_hand = probs.sum(axis=1) > 0 if n else np.zeros(0, bool)
    top = probs.argmax(axis=1) if n else np.zeros(0, np.int64)
    confidence = probs.max(axis=1) if n else np.zeros(0)
    correct = has_hand & (top == labels)
    given = has_hand & (confidence >= threshold)
    right = given & correct
    ece, table = reliability(confidence[has_hand], correct[has_hand])
    per_letter: dict[str, dict[str, Any]] = {}
    wanted = set(letters) if letters is not None else None
    for index, name in enumerate(classes):
        mine = labels == index
        if not mine.any() or (wanted is not None and name not in wanted):
            continue
        per_letter[name] = {"n": int(mine.sum()), "top1": float(correct[mine].mean()),
                            "letters_right": float(right[mine].mean())}
    worst = sorted(((k, v["top1"]) for k, v in per_letter.items()), key=lambda kv: (kv[1], kv[0]))[:3]
    nan = float("nan")
    return AnswerScore(
        n=n, threshold=float(threshold), letters_right=float(right.mean()) if n else nan,
        top1=float(correct.mean()) if n else nan, coverage=float(given.mean()) if n else nan,
        given_accuracy=float(right.sum() / given.sum()) if given.any() else nan, ece=ece,
        no_hand=int((~has_hand).sum()), per_letter=per_letter, worst=worst,
        curve=coverage_curve(confidence, correct, has_hand), reliability=table,
    )


def label_indices(names: Sequence[str | None], classes: Sequence[str]) -> np.ndarray:
    """Class index of each label name (case-insensitive), -1 for one outside `classes`."""
    lookup = {c.lower(): i for i, c in enumerate(classes)}
    return np.array([lookup.get(str(name).lower(), -1) if name is not None else -1 for name in names], dtype=np.int64)
