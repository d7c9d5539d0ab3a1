"""The rule `data issues` flags label errors by: confident disagreement is flagged with the
letter to suggest, the models' own near misses are not, and ASL twins (V / 2) are pooled."""
from __future__ import annotations

import numpy as np
import pytest

from fingerspell.evaluate.mislabels import flag_mislabels, twin_groups

CLASSES = ["2", "A", "B", "C", "K", "V"]


def _probs(rows: list[dict[str, float]]) -> np.ndarray:
    out = np.full((len(rows), len(CLASSES)), 0.004)
    for i, row in enumerate(rows):
        for name, p in row.items():
            out[i, CLASSES.index(name)] = p
    return out / out.sum(1, keepdims=True)


def _data(seed: int = 0):
    """40 clean samples per letter (the models agree), then: two flipped A->B, one V labelled K,
    one 2 that looks like a V, and two near misses (C given 0.35, B 0.6)."""
    rng = np.random.default_rng(seed)
    labels, rows = [], []
    for name in ("A", "B", "C", "K", "V", "2"):
        for _ in range(40):
            p = float(rng.uniform(0.8, 0.97))
            rows.append({name: p} if name != "2" else {"2": p * 0.6, "V": p * 0.4})
            labels.append(name)
    extra = [("B", {"A": 0.97}), ("B", {"A": 0.95}), ("K", {"V": 0.96}), ("2", {"V": 0.9}),
             ("C", {"C": 0.35, "B": 0.6}), ("C", {"C": 0.4, "A": 0.55})]
    for given, row in extra:
        labels.append(given)
        rows.append(row)
    return np.array([CLASSES.index(c) for c in labels]), _probs(rows)


def test_confident_disagreement_is_flagged_with_the_letter_to_suggest():
    labels, probs = _data()
    result = flag_mislabels(labels, probs, CLASSES)
    flagged = set(np.flatnonzero(result.flagged))
    n = len(labels)
    assert {n - 6, n - 5, n - 4} <= flagged                      # the two flips and V labelled K
    assert [CLASSES[result.suggested[i]] for i in (n - 6, n - 5, n - 4)] == ["A", "A", "V"]
    assert n - 3 not in flagged                                  # a 2 that looks like a V: same hand shape
    assert not flagged & set(range(n - 6))                       # no clean sample
    assert np.all((0 <= result.score) & (result.score <= 1))
    assert result.score[n - 6] > result.score[0]


def test_twins_are_pooled_only_where_the_dataset_has_both():
    groups = twin_groups(["0", "2", "O", "V", "W", "z", "1"])
    assert groups[1] == groups[3] and groups[0] == groups[2] and groups[5] == groups[6]
    assert groups[4] == 4                                        # W without a 6: its own group
    assert list(twin_groups(["A", "B", "V"])) == [0, 1, 2]


def test_shapes_that_disagree_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        flag_mislabels(np.array([0, 1]), np.ones((3, 2)) / 2, ["A", "B"])
