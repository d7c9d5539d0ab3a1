"""The spelling rules before issue 13 (frame counts, hand-box bounces), kept as the baseline
that bench/bench_spelling.py compares `fingerspell.infer.spelling.Spelling` against.

Spelling: turn the smoothed letter stream of a video or camera into text.

Rules (ASL fingerspelling conventions, made measurable):
- a letter that becomes stable commits once, however long it is held;
- a double letter (the "LL" of HELLO) is signed with a small bounce or slide of the hand while
  the hand shape stays the same: when the hand moves by more than `move` hand-sizes within
  `move_window` frames and then comes to rest, the letter commits again (not for J and Z, whose
  signs are movements themselves). Letting the letter go
  (hand out of view for longer than the smoother's `release`) and signing it again also
  commits it again;
- a hand out of view for `space_after` frames or more ends the word: a space is put in front
  of the next letter (so the text never ends in a dangling space);
- the `space` and `del` classes, where a model has them, add a space / delete the last character;
  `nothing` is treated as no hand by the smoother.
Every commit carries its frame index and time.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.infer.smoothing import SmootherState
from fingerspell.infer.spelling import Commit, kept_letters

SPACE_CLASS = "space"
DELETE_CLASS = "del"
# Letters whose sign is itself a movement (J: the pinky draws a J; Z: the index draws a Z):
# their motion is no bounce, so they double only by being let go and signed again.
MOTION_LETTERS = frozenset({"J", "Z"})


@dataclass
class Speller:
    """Feed it one smoothed frame at a time (`update`); read `text` and `commits`.

    space_after   frames with no hand that end a word (default 15 = 0.5 s at 30 fps)
    move          hand displacement, in hand sizes, that counts as a bounce / slide
    move_window   frames over which that displacement must happen (slow drift does not count)
    settle        frames in a row of near stillness that end a bounce
    still         per-frame movement (hand sizes) below which the hand counts as still
    """

    space_after: int = 15
    move: float = 0.25
    move_window: int = 10
    settle: int = 3
    still: float = 0.03
    motion_letters: frozenset[str] = MOTION_LETTERS
    text: str = field(default="", init=False)
    commits: list[Commit] = field(default_factory=list, init=False)
    _current: str | None = field(default=None, init=False, repr=False)
    _pending_space: bool = field(default=False, init=False, repr=False)
    _recent: deque = field(default_factory=lambda: deque(maxlen=32), init=False, repr=False)
    _moving: bool = field(default=False, init=False, repr=False)
    _still_frames: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._recent = deque(maxlen=max(2, self.move_window + 1))

    def reset(self) -> None:
        self.text = ""
        self.commits = []
        self._current = None
        self._pending_space = False
        self._recent.clear()
        self._moving = False
        self._still_frames = 0

    def update(
        self,
        state: SmootherState,
        hand_box: tuple[float, float, float, float] | None,
        frame: int,
        time: float | None,
    ) -> list[Commit]:
        """Take one frame's smoothed state and hand box; return the commits it caused."""
        new: list[Commit] = []
        if state.letter is None:
            self._current = None
            self._recent.clear()
            self._moving = False
            if state.missing >= self.space_after and self.text and not self.text.endswith(" "):
                self._pending_space = True
            return new
        if state.letter != self._current:
            self._current = state.letter
            self._recent.clear()
            self._moving = False
            new.extend(self._commit(state.letter, "letter", frame, time))
            self._track(hand_box)
            return new
        # Same letter held: watch the hand for a bounce or slide.
        if self._track(hand_box) and state.letter not in self.motion_letters:
            new.extend(self._commit(state.letter, "double", frame, time))
        return new

    def _track(self, hand_box: tuple[float, float, float, float] | None) -> bool:
        """Follow the hand centre; True when a quick move has just come to rest."""
        if hand_box is None:
            return False
        x0, y0, x1, y1 = hand_box
        size = max(x1 - x0, y1 - y0, 1.0)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) / size
        previous = self._recent[-1] if self._recent else None
        if not self._moving:
            if self._recent and max(float(np.linalg.norm(centre - p)) for p in self._recent) > self.move:
                self._moving = True
                self._still_frames = 0
        self._recent.append(centre)
        if self._moving and previous is not None:
            if float(np.linalg.norm(centre - previous)) < self.still:
                self._still_frames += 1
            else:
                self._still_frames = 0
            if self._still_frames >= self.settle:
                self._moving = False
                self._recent.clear()
                self._recent.append(centre)
                return True
        return False

    def _commit(self, letter: str, kind: str, frame: int, time: float | None) -> list[Commit]:
        out: list[Commit] = []
        if letter == DELETE_CLASS:
            if self.text:
                self.text = self.text[:-1]
                out.append(Commit("", "del", frame, time))
            self._pending_space = False
            self.commits.extend(out)
            return out
        if letter == SPACE_CLASS:
            if self.text and not self.text.endswith(" "):
                self.text += " "
                out.append(Commit(" ", "space", frame, time))
            self._pending_space = False
            self.commits.extend(out)
            return out
        if self._pending_space and self.text and not self.text.endswith(" "):
            self.text += " "
            out.append(Commit(" ", "space", frame, time))
        self._pending_space = False
        self.text += letter
        out.append(Commit(letter, kind, frame, time))
        self.commits.extend(out)
        return out

    def letters(self) -> list[dict[str, Any]]:
        """The committed letters and spaces with their times (deletions applied)."""
        return kept_letters(self.commits)
