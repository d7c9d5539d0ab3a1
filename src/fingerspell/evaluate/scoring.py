"""Scores of a landmark model on a landmark set: top-1 over ALL samples (no hand = wrong),
the no-hand rate, and accuracy per letter; the answers' probabilities are kept, so that
`Score.answers(threshold)` scores them through the one evaluation path
(`evaluate.still_metrics`: letters given right, coverage, ECE, worst letters)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.evaluate.landmark_fit import predict_set
from fingerspell.evaluate.landmark_sets import LandmarkSet
from fingerspell.evaluate.still_metrics import AnswerScore, score_answers

@dataclass
class Score:
    """Top-1 over ALL test samples (no hand = wrong), with the no-hand rate and per letter."""

    n: int
    correct: int
    no_hand: int
    per_letter: dict[str, list[int]]  # letter -> [correct, total]
    # The answers' probabilities [n, C] (zeros = no hand) and class indices, in `classes` order.
    probs: np.ndarray | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)
    classes: tuple[str, ...] = ()

    @property
    def top1(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def no_hand_rate(self) -> float:
        return self.no_hand / self.n if self.n else float("nan")

    def add(self, other: "Score") -> "Score":
        letters = dict(self.per_letter)
        for k, (c, t) in other.per_letter.items():
            c0, t0 = letters.get(k, [0, 0])
            letters[k] = [c0 + c, t0 + t]
        # The answers are kept only when every non-empty part kept them, over the same classes.
        parts = [s for s in (self, other) if s.n]
        probs = y = None
        classes: tuple[str, ...] = ()
        if parts and all(s.probs is not None for s in parts) and len({s.classes for s in parts}) == 1:
            probs = np.concatenate([s.probs for s in parts])
            y = np.concatenate([s.y for s in parts])
            classes = parts[0].classes
        return Score(self.n + other.n, self.correct + other.correct, self.no_hand + other.no_hand, letters,
                     probs, y, classes)

    def answers(self, threshold: float, letters: Iterable[str] | None = None) -> AnswerScore | None:
        """The answers scored at `threshold` (letters given right, top-1, coverage, ECE, worst
        three of `letters`), or None when the probabilities were not kept."""
        if self.probs is None or self.y is None or not self.classes:
            return None
        return score_answers(self.probs, self.y, self.classes, threshold, letters=None if letters is None else list(letters))

    def top1_over(self, letters: Iterable[str]) -> float:
        """Top-1 over the samples of these letters only (e.g. the 24 static ones)."""
        wanted = set(letters)
        correct = sum(c for k, (c, t) in self.per_letter.items() if k in wanted)
        total = sum(t for k, (c, t) in self.per_letter.items() if k in wanted)
        return correct / total if total else float("nan")

    def letter_accuracy(self) -> dict[str, float]:
        return {k: c / t for k, (c, t) in sorted(self.per_letter.items()) if t}

    def worst_letters(self, k: int = 5, letters: Iterable[str] | None = None) -> list[tuple[str, float]]:
        acc = self.letter_accuracy()
        if letters is not None:
            wanted = set(letters)
            acc = {a: v for a, v in acc.items() if a in wanted}
        return sorted(acc.items(), key=lambda kv: kv[1])[:k]

    def to_dict(self) -> dict[str, Any]:
        return {"top1": round(self.top1, 4), "n": self.n, "no_hand_rate": round(self.no_hand_rate, 4),
                "per_letter": {k: round(v, 4) for k, v in self.letter_accuracy().items()},
                "worst_letters": [[k, round(v, 4)] for k, v in self.worst_letters()]}


EMPTY_SCORE = Score(0, 0, 0, {})


def score_set(model: Any, data: LandmarkSet, classes: Sequence[str], temperature: float = 1.0) -> Score:
    """Score a model on every sample of `data` whose label is in `classes`; no hand = wrong.
    Probabilities are softmax(logits / temperature)."""
    data = data.letters(classes)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in data.labels], dtype=np.int64)
    pred, probs = predict_set(model, data, temperature)
    if probs.shape[1] != len(classes):  # no hand anywhere: no model output at all
        probs = np.zeros((len(y), len(classes)))
    correct = pred == y
    per: dict[str, list[int]] = {}
    for label, ok in zip(data.labels, correct):
        per.setdefault(label, [0, 0])
        per[label][0] += int(ok)
        per[label][1] += 1
    return Score(len(y), int(correct.sum()), int((~data.found).sum()), per, probs, y, tuple(classes))
