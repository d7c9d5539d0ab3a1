"""The one evaluation path: letters given right, top-1, coverage, ECE, worst letters and the
coverage/accuracy curve, on hand-made cases and as properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerspell.errors import FingerspellError
from fingerspell.evaluate.still_metrics import label_indices, reliability, score_answers

CLASSES = ["A", "B", "C"]


def test_a_hand_made_case():
    probs = np.array([
        [0.9, 0.05, 0.05],   # A, right, given at 0.5
        [0.4, 0.35, 0.25],   # A, right, withheld at 0.5
        [0.2, 0.7, 0.1],     # label C: wrong, given
        [0.0, 0.0, 0.0],     # no hand: wrong
        [0.1, 0.1, 0.8],     # C, right, given
    ])
    labels = np.array([0, 0, 2, 1, 2])
    s = score_answers(probs, labels, CLASSES, 0.5)
    assert s.n == 5 and s.no_hand == 1
    assert s.letters_right == pytest.approx(2 / 5)
    assert s.top1 == pytest.approx(3 / 5)
    assert s.coverage == pytest.approx(3 / 5)
    assert s.given_accuracy == pytest.approx(2 / 3)
    # ECE over the four with a hand, 15 bins: 0.9 (right), 0.4 (right), 0.7 (wrong), 0.8 (right)
    # each alone in its bin: (|1-0.9| + |1-0.4| + |0-0.7| + |1-0.8|) / 4
    assert s.ece == pytest.approx((0.1 + 0.6 + 0.7 + 0.2) / 4)
    assert s.per_letter["A"] == {"n": 2, "top1": 1.0, "letters_right": 0.5}
    assert s.per_letter["B"]["top1"] == 0.0 and s.per_letter["C"]["top1"] == 0.5
    assert s.worst == [("B", 0.0), ("C", 0.5), ("A", 1.0)]
    at_zero = s.curve[0]
    assert at_zero["threshold"] == 0.0 and at_zero["coverage"] == pytest.approx(0.8)
    assert at_zero["letters_right"] == pytest.approx(s.top1)
    assert "letters given right 40.0%" in s.line()


def test_ece_of_a_calibrated_bin_is_zero_and_of_an_overconfident_one_is_the_gap():
    confidence = np.full(10, 0.75)
    assert reliability(confidence, np.arange(10) < 7.5)[0] == pytest.approx(0.05)   # 8 of 10 right vs 0.75
    assert reliability(np.full(4, 0.75), np.array([1, 1, 1, 0], bool))[0] == pytest.approx(0.0)


def test_labels_outside_the_classes_are_never_right_and_shapes_are_checked():
    assert label_indices(["a", "B", "del", None], CLASSES).tolist() == [0, 1, -1, -1]
    s = score_answers(np.array([[1.0, 0, 0]]), np.array([-1]), CLASSES, 0.5)
    assert s.top1 == 0.0 and s.coverage == 1.0
    with pytest.raises(FingerspellError):
        score_answers(np.zeros((2, 3)), np.zeros(3, int), CLASSES, 0.5)
    with pytest.raises(FingerspellError):
        score_answers(np.zeros((1, 3)), np.zeros(1, int), CLASSES, 1.5)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(1, 40), st.integers(0, 2**31 - 1), st.floats(0.0, 1.0))
def test_properties(n, seed, threshold):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=n)
    probs[rng.random(n) < 0.1] = 0.0  # some images without a hand
    labels = rng.integers(0, 3, n)
    s = score_answers(probs, labels, CLASSES, threshold)
    assert 0.0 <= s.letters_right <= min(s.top1, s.coverage) + 1e-12
    assert 0.0 <= s.ece <= 1.0
    coverage = [c["coverage"] for c in s.curve]
    assert all(a >= b for a, b in zip(coverage, coverage[1:]))  # a higher bar gives fewer letters
    assert score_answers(probs, labels, CLASSES, 0.0).letters_right == pytest.approx(s.top1)
