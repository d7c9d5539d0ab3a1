"""The smoother and speller on probability streams with known answers (noise, dropouts, bounces)."""
from __future__ import annotations

import numpy as np
import pytest

from fingerspell.infer.smoothing import LetterSmoother, count_switches, switches_per_second
from fingerspell.infer.speller import Speller

LABELS = ["A", "B", "C", "del", "nothing", "space"]


def probs(letter, p=0.9, rng=None, noise=0.0):
    out = np.full(len(LABELS), (1 - p) / (len(LABELS) - 1))
    out[LABELS.index(letter)] = p
    if rng is not None and noise:
        out = np.clip(out + rng.uniform(0, noise, len(LABELS)), 0, None)
    return out / out.sum()


def run(stream, boxes=None, **speller_kw):
    smoother, speller = LetterSmoother(LABELS), Speller(**speller_kw)
    letters = []
    for i, p in enumerate(stream):
        state = smoother.update(p)
        box = None if p is None else (boxes[i] if boxes else (100.0, 100.0, 300.0, 300.0))
        speller.update(state, box, i, i / 30)
        letters.append(state.letter)
    return letters, speller


def test_noisy_frames_do_not_flicker():
    rng = np.random.default_rng(0)
    # A held A where one frame in four the classifier prefers B or C for a single frame.
    stream = []
    for i in range(300):
        wrong = i % 4 == 2
        if wrong:
            stream.append(probs(rng.choice(["B", "C"]), p=0.6, rng=rng, noise=0.2))
        else:
            stream.append(probs("A", p=0.8, rng=rng, noise=0.2))
    raw = [LABELS[int(np.argmax(p))] for p in stream]
    letters, speller = run(stream)
    assert switches_per_second(raw, 30) > 5  # the raw stream flickers
    assert count_switches(letters) == 0 and switches_per_second(letters, 30) == 0
    assert speller.text == "A"


def test_change_is_detected_within_ten_frames():
    letters, speller = run([probs("A")] * 30 + [probs("B")] * 30)
    first_b = letters.index("B")
    assert 30 <= first_b < 40
    assert speller.text == "AB"
    assert [c.frame for c in speller.commits] == [letters.index("A"), first_b]


def test_short_dropouts_are_bridged_and_long_ones_are_no_hand():
    stream = [probs("A")] * 20 + [None] * 2 + [probs("A")] * 20 + [None] * 30 + [probs("B")] * 20
    letters, speller = run(stream)
    assert letters[20:22] == ["A", "A"]  # 2 missing frames: still A
    assert all(letter is None for letter in letters[46:72])  # long gap: no hand
    assert speller.text == "A B"  # the gap ended the word; no trailing space


def test_nothing_class_counts_as_no_hand():
    letters, _ = run([probs("A")] * 10 + [probs("nothing")] * 10)
    assert letters[-1] is None


def test_space_and_delete_classes_edit_the_text():
    stream = ([probs("A")] * 10 + [probs("B")] * 10 + [probs("del")] * 10 + [probs("C")] * 10
              + [probs("space")] * 10 + [probs("A")] * 10)
    _, speller = run(stream)
    assert speller.text == "AC A"
    assert [c["letter"] for c in speller.letters()] == ["A", "C", " ", "A"]


def test_bounce_commits_a_double_letter_but_slow_drift_does_not():
    still = [(100.0, 100.0, 300.0, 300.0)] * 20
    bounce = [(100.0, 100.0 + d, 300.0, 300.0 + d) for d in (20, 45, 70, 80, 70, 45, 20, 0)]
    boxes = still + bounce + [(100.0, 100.0, 300.0, 300.0)] * 20
    _, speller = run([probs("A")] * len(boxes), boxes=boxes)
    assert speller.text == "AA"
    # The same 80 px spread over 2 seconds is a drifting hand, not a bounce.
    drift = [(100.0, 100.0 + i * 80 / 60, 300.0, 300.0 + i * 80 / 60) for i in range(60)]
    _, speller = run([probs("A")] * 60, boxes=drift)
    assert speller.text == "A"


def test_letting_go_and_signing_again_commits_again():
    _, speller = run([probs("A")] * 15 + [None] * 6 + [probs("A")] * 15)
    assert speller.text == "AA"


def test_smoother_checks_its_settings():
    with pytest.raises(ValueError):
        LetterSmoother(LABELS, alpha=0)
    with pytest.raises(ValueError, match="expected 6 probabilities"):
        LetterSmoother(LABELS).update(np.ones(3) / 3)


def test_motion_letters_do_not_double_by_moving():
    labels = ["J", "Z"]
    smoother, speller = LetterSmoother(labels), Speller()
    boxes = [(100.0, 100.0 + d, 300.0, 300.0 + d) for d in [0] * 10 + [30, 60, 90, 90, 60, 30, 0] + [0] * 10]
    for i, box in enumerate(boxes):
        speller.update(smoother.update(np.array([0.95, 0.05])), box, i, i / 30)
    assert speller.text == "J"
