"""Temporal smoothing: turn per-frame letter probabilities into a stable letter (no flicker).

The rules before issue 13: streams now go through `fingerspell.infer.spelling.Spelling` (time-based,
shared with the browser); `LetterSmoother` is kept as bench/bench_spelling.py's baseline and
`count_switches` / `switches_per_second` measure steadiness.

A per-frame classifier flickers with the slightest movement (DebuggerCafe's webcam demo says
so). `LetterSmoother` keeps an exponential moving average of the probabilities and changes its
output only with hysteresis: a new letter must lead the average, clear `enter` and stay the
leader for `hold` frames in a row. A hand missing for `release` frames in a row is the
"no hand" state (output None); one or two dropped detections in the middle of a letter are
bridged. With the defaults at 30 fps a clean change of letter shows in about 4-6 frames.

Steadiness is measured as switches per second (`switches_per_second`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SmootherState:
    """What the smoother says after one frame."""

    letter: str | None  # the stable letter; None = no hand / nothing stable yet
    confidence: float  # the averaged probability of `letter` (0 when None)
    changed: bool  # True on the frame where `letter` changed
    hand: bool  # a hand was seen in this frame
    missing: int  # frames in a row without a hand


@dataclass
class LetterSmoother:
    """EMA of class probabilities + hysteresis + a "no hand" state.

    alpha    weight of the newest frame in the moving average (higher = faster, jumpier)
    enter    the averaged probability a new letter needs before it can take over
    hold     frames in a row the new letter must lead before it is emitted
    release  frames in a row without a hand before the output becomes None ("no hand")
    ignore   class names that never become a letter (e.g. "nothing": treated as no hand)
    """

    labels: list[str]
    alpha: float = 0.35
    enter: float = 0.5
    hold: int = 3
    release: int = 4
    ignore: frozenset[str] = field(default_factory=lambda: frozenset({"nothing"}))
    letter: str | None = field(default=None, init=False)
    switches: int = field(default=0, init=False)
    frames: int = field(default=0, init=False)
    _ema: np.ndarray | None = field(default=None, init=False, repr=False)
    _candidate: int | None = field(default=None, init=False, repr=False)
    _streak: int = field(default=0, init=False, repr=False)
    _missing: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")
        if self.hold < 1 or self.release < 1:
            raise ValueError("hold and release must be at least 1 frame")
        self._ignored = np.array([name in self.ignore for name in self.labels], dtype=bool)

    def reset(self) -> None:
        self.letter = None
        self.switches = 0
        self.frames = 0
        self._ema = None
        self._candidate = None
        self._streak = 0
        self._missing = 0

    def update(self, probabilities: np.ndarray | None) -> SmootherState:
        """Feed one frame: the model's probabilities over `labels`, or None when no hand was found."""
        self.frames += 1
        previous = self.letter
        if probabilities is not None:
            probs = np.asarray(probabilities, dtype=np.float64)
            if probs.shape != (len(self.labels),):
                raise ValueError(f"expected {len(self.labels)} probabilities, got shape {probs.shape}")
            if self._ignored.any() and self._ignored[int(np.argmax(probs))]:
                probabilities = None  # "nothing" wins: the same as no hand in view
        if probabilities is None:
            self._missing += 1
            self._streak = 0
            self._candidate = None
            if self._missing >= self.release:
                # Long enough gone: forget the average so the next hand starts fresh.
                self.letter = None
                self._ema = None
        else:
            self._missing = 0
            if self._ema is None:
                self._ema = probs.copy()
            else:
                self._ema = self.alpha * probs + (1.0 - self.alpha) * self._ema
            leader = int(np.argmax(self._ema))
            name = self.labels[leader]
            if name == self.letter:
                self._candidate, self._streak = None, 0
            elif self._ema[leader] >= self.enter:
                if leader == self._candidate:
                    self._streak += 1
                else:
                    self._candidate, self._streak = leader, 1
                if self._streak >= self.hold:
                    self.letter = name
                    self._candidate, self._streak = None, 0
            else:
                self._candidate, self._streak = None, 0
        changed = self.letter != previous
        if changed and self.letter is not None and previous is not None:
            self.switches += 1  # letter -> other letter: the flicker we want to avoid
        confidence = 0.0
        if self.letter is not None and self._ema is not None:
            confidence = float(self._ema[self.labels.index(self.letter)])
        return SmootherState(self.letter, confidence, changed, probabilities is not None, self._missing)


def count_switches(letters: list[str | None]) -> int:
    """How many times a sequence changes from one letter to a different letter (None ignored)."""
    switches, last = 0, None
    for letter in letters:
        if letter is None:
            continue
        if last is not None and letter != last:
            switches += 1
        last = letter
    return switches


def switches_per_second(letters: list[str | None], fps: float) -> float:
    """Letter-to-letter switches per second of a per-frame sequence at `fps`."""
    if not letters or fps <= 0:
        return 0.0
    return count_switches(letters) / (len(letters) / fps)
