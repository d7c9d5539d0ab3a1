"""Spelling: turn a stream of per-frame probabilities and hand landmarks into text.

The same rules run in the browser (`web/static/js/spelling.js`, checked frame by frame against
this module by tests/infer/test_spelling_parity.py); their parameters live in the bundle
(`bundle.json` "spelling", see `fingerspell.export.spelling_params`). Times are seconds and
distances palm sizes, so the rules do not depend on the frame rate.

Per frame with a hand:
1. probabilities: a moving average with time constant `tau` (the weight of a frame grows with
   the time since the previous one). The leader is the best static letter of the average
   (J and Z, the `motion_letters`, and `ignore` classes never lead).
2. hand speed: the mean displacement of the 21 landmarks (median of the last 3 frames, so a
   single-frame glitch of the tracker is ignored) over the last `speed_lag` seconds, in palm
   sizes per second. Below `still_speed` the hand is steady; above `move_speed` it moved.
3. a letter commits when it has led for `min_hold` seconds, the hand has been steady for
   `min_hold` seconds and its averaged probability reaches `threshold` (below it the letter is
   withheld). It commits once per hold:
   - a different letter replaces the held one only after the hand moved (faster than
     `move_speed`, or its shape changed by `change_distance` palm sizes since the held letter
     committed: a real change of letter moves the fingers, drift does not) or after leading
     for `switch_hold` seconds; letters seen
     while the hand moves between two letters never commit (the hand is not steady);
   - the same letter commits again ("double") only after a bounce or slide: within
     `bounce_time` seconds the hand's centre moves `bounce_distance` palm sizes away and at
     least halfway back (a bounce), or `slide_distance` away (a slide), then steadies with the
     same letter, its shape unchanged (`change_distance`). Slow drift is no bounce; nor is a
     movement after which the palm looks more than `depth_change` bigger or smaller than when
     the letter committed: the hand moved toward or away from the camera to a new place (a
     signer repositioning, or a cut in the video), while a bounce or slide keeps its distance.
     Such a move makes the new place the held letter's reference instead.
4. J and Z: the motion model (`fingerspell.infer.motion`) reads the fingertip trajectory of the
   last `motion_window` seconds; when a motion letter's probability reaches `motion_threshold`,
   a fingertip travelled `motion_min_path` palm sizes and, at some frame of the window, the
   averaged probability of the letter's hand shapes (`motion_shapes`: I or J for J, Z for Z)
   reached `motion_gate` (a Q or S that moves draws no J or Z), the letter commits. If the letter
   just committed is the hand shape the movement started from (I before J), it is replaced
   (a "del" commit, then the motion letter). For `motion_window` seconds after, and while the
   leader is still that shape, nothing static commits; the next motion letter needs
   `motion_refractory` seconds (one stroke of Z is not two Zs).
Without a hand for `release` seconds the hold ends (the same letter commits again when signed
again); for `space_after` seconds the word ends (a space goes before the next letter). The
`space` and `del` classes, where a model has them, add a space / delete the last character.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from fingerspell.errors import FingerspellError
from fingerspell.export.spelling_params import SpellingParams
from fingerspell.infer.motion import Track, Tracker, distance, motion_features, motion_probabilities

SPACE_CLASS = "space"
DELETE_CLASS = "del"


@dataclass
class Commit:
    """One edit of the text: a letter (`kind` "letter" or "double"), a space, or a deletion."""

    letter: str  # the character added ("" for a deletion)
    kind: str  # "letter" | "double" | "space" | "del"
    frame: int
    time: float | None  # seconds from the start of the stream

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = None if self.time is None else round(float(self.time), 4)
        return data


@dataclass
class SpellingStep:
    """What one frame did: the stable letter now, its averaged probability, and the commits."""

    letter: str | None
    confidence: float
    hand: bool
    committed: list[Commit] = field(default_factory=list)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"letter": self.letter, "confidence": self.confidence, "hand": self.hand, "text": self.text,
                "committed": [{"letter": c.letter, "kind": c.kind, "time": c.time} for c in self.committed]}


class Spelling:
    """The spelling rules over one stream. Feed frames with `push`; read `text` and `commits`.

    labels: the model's class names in output order; params: a bundle's "spelling" object
    (a dict; missing keys take the defaults) or a SpellingParams.
    Raises BundleError for malformed params.
    """

    def __init__(self, labels: Sequence[str], params: dict[str, Any] | SpellingParams | None = None):
        self.labels = list(labels)
        self.params = params if isinstance(params, SpellingParams) else SpellingParams.from_dict(params)
        self.threshold = self.params.threshold
        skip = set(self.params.motion_letters) | set(self.params.ignore)
        self._static = [i for i, name in enumerate(self.labels) if name not in skip]
        self._ignored = {i for i, name in enumerate(self.labels) if name in self.params.ignore}
        model = self.params.motion
        self._motion = model if model is not None and any(c in self.labels for c in model["classes"]) else None
        # Frames kept: enough for the motion window, a bounce and the speed lag.
        self._keep = max(self.params.motion_window, self.params.bounce_time, self.params.speed_lag) + 0.25
        # Per motion letter, the classes of the hand shapes it is drawn with (absent ones dropped).
        self._shape_index = {letter: [i for i, name in enumerate(self.labels) if name in shapes]
                             for letter, shapes in self.params.motion_shapes.items()}
        self.reset()

    # ---- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything: the text, the commits and the state of the stream."""
        self._text = ""
        self.commits: list[Commit] = []
        self._frames = 0
        self._last_seen: float | None = None  # time of the last frame with a hand
        self._pending_space = False
        self._end_hold()

    def _end_hold(self) -> None:
        self._ema: list[float] | None = None
        self._tracker = Tracker(self._keep)
        self._tracks = self._tracker.tracks
        self._leader: int | None = None
        self._leader_since = 0.0
        self._steady_since: float | None = None
        self._held: str | None = None
        self._held_at = -math.inf  # when the held letter committed
        self._held_track: Track | None = None  # the hand when it committed
        self._moved = False
        self._reshaped = False  # the hand shape changed since the held letter committed
        self._bounce = False
        self._motion_shape: int | None = None
        self._shape_at: dict[str, float] = {}  # motion letter -> last time its hand shapes reached motion_gate
        self._last_track: Track | None = None
        self._motion_at = -math.inf

    @property
    def text(self) -> str:
        """The spelled text so far."""
        return self._text

    # ---- UI edits -------------------------------------------------------------------------------
    def add_space(self) -> list[Commit]:
        """End the word now (a space, unless the text is empty or ends in one)."""
        return self._edit(SPACE_CLASS, "space")

    def backspace(self) -> list[Commit]:
        """Delete the last character."""
        return self._edit(DELETE_CLASS, "del")

    def clear(self) -> None:
        """Empty the text (the state of the stream is kept: a held letter does not commit again)."""
        self._text = ""
        self.commits = []
        self._pending_space = False

    def _edit(self, name: str, kind: str) -> list[Commit]:
        time = self._last_seen
        return self._commit(name, kind, self._frames - 1, time)

    # ---- one frame ------------------------------------------------------------------------------
    def push(self, t: float, probs: Sequence[float] | None, landmarks: Sequence[Sequence[float]] | None = None,
             handedness: str | None = None, size: Sequence[float] | None = None,
             frame: int | None = None) -> SpellingStep:
        """Feed one frame: its time (seconds, increasing), the calibrated probabilities in
        `labels` order (None = no hand), the 21 MediaPipe landmarks (normalised x, y, z),
        handedness and the frame size (width, height) in pixels.

        Raises FingerspellError when the probabilities do not match the labels.
        """
        index = self._frames if frame is None else frame
        self._frames += 1
        t = float(t)
        hand = probs is not None
        if probs is not None:
            if len(probs) != len(self.labels):
                raise FingerspellError(f"expected {len(self.labels)} probabilities, got {len(probs)}")
            probs = [float(p) for p in probs]
            if self._ignored and _argmax(probs, range(len(probs))) in self._ignored:
                hand = False  # "nothing" wins: the same as no hand in view
        if not hand:
            return self._no_hand(t, index)
        return self._with_hand(t, probs, landmarks, handedness, size, index)

    def push_frame(self, frame: dict[str, Any]) -> SpellingStep:
        """`push` with the browser's frame object: {t, probs, landmarks, handedness, size}."""
        return self.push(frame["t"], frame.get("probs"), frame.get("landmarks"), frame.get("handedness"),
                         frame.get("size"))

    def _no_hand(self, t: float, index: int) -> SpellingStep:
        letter = None
        if self._last_seen is not None:
            gone = t - self._last_seen
            if gone >= self.params.release:
                self._end_hold()
            if gone >= self.params.space_after and self._text and not self._text.endswith(" "):
                self._pending_space = True
            letter = self._held
        return SpellingStep(letter, self._confidence(letter), False, [], self._text)

    def _with_hand(self, t: float, probs: list[float], landmarks: Any, handedness: str | None,
                   size: Sequence[float] | None, index: int) -> SpellingStep:
        p = self.params
        if self._ema is None or self._last_seen is None:
            self._ema = list(probs)
        else:
            a = 1.0 - math.exp(-max(0.0, t - self._last_seen) / p.tau)
            self._ema = [a * x + (1.0 - a) * e for x, e in zip(probs, self._ema)]
        self._last_seen = t
        self._remember_shapes(t)
        track = self._track(t, landmarks, handedness, size)
        speed = self._speed(track) if track is not None else 0.0  # no landmarks: nothing to judge
        if speed is not None and speed < p.still_speed:
            if self._steady_since is None:
                self._steady_since = t
        else:
            self._steady_since = None
        if speed is not None and speed > p.move_speed:
            self._moved = True
        if track is not None and self._held_track is not None and _shape_change(track, self._held_track) > p.change_distance:
            self._moved = self._reshaped = True
        self._last_track = track
        leader = _argmax(self._ema, self._static)
        if leader != self._leader:
            self._leader, self._leader_since = leader, t
        if self._motion_shape is not None and leader != self._motion_shape:
            self._motion_shape = None
        name = None if leader is None else self.labels[leader]
        if track is not None and name is not None and name == self._held:
            if self._bounced(track):
                self._bounce = True
        elif name != self._held:
            self._bounce = False
        new: list[Commit] = []
        if self._motion is not None and track is not None:
            new.extend(self._motion_commit(t, index, leader))
        if not new and leader is not None:
            new.extend(self._static_commit(t, index, leader))
        return SpellingStep(self._held, self._confidence(self._held), True, new, self._text)

    def _track(self, t: float, landmarks: Any, handedness: str | None, size: Sequence[float] | None) -> Track | None:
        if landmarks is None or size is None:
            return None
        return self._tracker.add(t, landmarks, handedness, size)

    def _speed(self, track: Track) -> float | None:
        """Palm sizes per second over the last `speed_lag` s; None while too little is known."""
        lag = self.params.speed_lag
        ref = None
        for tr in reversed(self._tracks):
            if tr is not track and tr.t <= track.t - lag:
                ref = tr
                break
        if ref is None:
            oldest = self._tracks[0]
            if oldest is track or track.t - oldest.t < lag / 2:
                return None
            ref = oldest
        span = track.t - ref.t
        if span <= 0:
            return None
        total = 0.0
        for (x, y), (u, v) in zip(track.points, ref.points):
            total += distance(x - u, y - v)
        return total / 21.0 / track.palm / span

    def _bounced(self, track: Track) -> bool:
        """A bounce (the hand's centre went `bounce_distance` palm sizes away and came at least
        halfway back within `bounce_time` s) or a slide (`slide_distance` away, not back)."""
        limit = self.params.bounce_distance * track.palm
        first, excursion = None, 0.0
        since = max(track.t - self.params.bounce_time, self._held_at)  # movement after the commit only
        for tr in self._tracks:
            if tr.t >= since:
                if first is None:
                    first = tr
                excursion = max(excursion, distance(track.centre[0] - tr.centre[0], track.centre[1] - tr.centre[1]))
        if first is None:
            return False
        net = distance(track.centre[0] - first.centre[0], track.centre[1] - first.centre[1])
        return (excursion > limit and net < 0.5 * excursion) or net > self.params.slide_distance * track.palm

    def _same_depth(self) -> bool:
        """The palm size now is within `depth_change` of the palm size when the held letter
        committed (True when either is unknown)."""
        if self._last_track is None or self._held_track is None:
            return True
        ratio = self._last_track.palm / self._held_track.palm
        return max(ratio, 1.0 / ratio) <= 1.0 + self.params.depth_change

    def _remember_shapes(self, t: float) -> None:
        """Note when each motion letter's hand shapes (their averaged probabilities summed)
        reach `motion_gate`."""
        for letter, indices in self._shape_index.items():
            if sum(self._ema[i] for i in indices) >= self.params.motion_gate:
                self._shape_at[letter] = t

    def _shape_seen(self, letter: str, t: float) -> bool:
        """The letter's hand shapes reached `motion_gate` at some frame of the last
        `motion_window` seconds (True when the model has none of them)."""
        if not self._shape_index.get(letter):
            return True
        return self._shape_at.get(letter, -math.inf) >= t - self.params.motion_window

    def _motion_commit(self, t: float, index: int, leader: int | None) -> list[Commit]:
        p, model = self.params, self._motion
        if t - self._motion_at < p.motion_refractory:
            return []
        result = motion_features(self._tracks, model["points"], model["tips"], p.motion_window)
        if result is None:
            return []
        features, paths = result
        if max(paths) < p.motion_min_path:
            return []
        probs = motion_probabilities(model, features)
        best, best_p = None, 0.0
        for i, name in enumerate(model["classes"]):
            if name in p.motion_letters and name in self.labels and probs[i] > best_p and self._shape_seen(name, t):
                best, best_p = name, probs[i]
        if best is None or best_p < p.motion_threshold:
            return []
        out: list[Commit] = []
        last = self.commits[-1] if self.commits else None
        # The hand shape the movement started from (I before J) was committed a moment ago: replace it.
        if (last is not None and leader is not None and last.kind in ("letter", "double")
                and last.letter == self.labels[leader] and last.time is not None
                and last.time >= t - p.motion_window - p.min_hold and self._text.endswith(last.letter)):
            out.extend(self._commit(DELETE_CLASS, "del", index, t))
        out.extend(self._commit(best, "letter", index, t))
        self._held, self._held_at, self._held_track = best, t, self._last_track
        self._motion_at = t
        self._motion_shape = leader
        self._moved = self._reshaped = False
        self._bounce = False
        return out

    def _static_commit(self, t: float, index: int, leader: int) -> list[Commit]:
        p = self.params
        if t - self._motion_at < p.motion_window or leader == self._motion_shape:
            return []
        if self._steady_since is None or t - self._steady_since < p.min_hold or t - self._leader_since < p.min_hold:
            return []
        if self._ema[leader] < self.threshold:
            return []  # withheld: the model is not sure enough
        name = self.labels[leader]
        kind = None
        if self._held is None:
            kind = "letter"
        elif name != self._held:
            if self._moved or t - self._leader_since >= p.switch_hold:
                kind = "letter"
        elif self._bounce and not self._reshaped and name not in p.motion_letters and name not in (SPACE_CLASS, DELETE_CLASS):
            if not self._same_depth():
                # Repositioned, not bounced: the letter stays held from its new place.
                self._held_at, self._held_track = t, self._last_track
                self._bounce = False
                return []
            kind = "double"
        if kind is None:
            return []
        if name == SPACE_CLASS:
            kind = "space"
        elif name == DELETE_CLASS:
            kind = "del"
        out = self._commit(name, kind, index, t)
        self._held, self._held_at, self._held_track = name, t, self._last_track
        self._moved = self._reshaped = False
        self._bounce = False
        return out

    def _commit(self, name: str, kind: str, index: int, t: float | None) -> list[Commit]:
        out: list[Commit] = []
        if kind == "del":
            if self._text:
                self._text = self._text[:-1]
                out.append(Commit("", "del", index, t))
            self._pending_space = False
        elif kind == "space":
            if self._text and not self._text.endswith(" "):
                self._text += " "
                out.append(Commit(" ", "space", index, t))
            self._pending_space = False
        else:
            if self._pending_space and self._text and not self._text.endswith(" "):
                self._text += " "
                out.append(Commit(" ", "space", index, t))
            self._pending_space = False
            self._text += name
            out.append(Commit(name, kind, index, t))
        self.commits.extend(out)
        return out

    def _confidence(self, letter: str | None) -> float:
        if letter is None or self._ema is None or letter not in self.labels:
            return 0.0
        return float(self._ema[self.labels.index(letter)])

    def letters(self) -> list[dict[str, Any]]:
        """The committed letters and spaces with their frames and times (deletions applied)."""
        return kept_letters(self.commits)


def kept_letters(commits: Sequence[Commit]) -> list[dict[str, Any]]:
    """The letters and spaces of a commit list that are still in the text (each "del" takes
    the one before it back), as JSON-safe records."""
    kept: list[Commit] = []
    for commit in commits:
        if commit.kind == "del":
            if kept:
                kept.pop()
        else:
            kept.append(commit)
    return [c.to_dict() for c in kept]


def _shape_change(a: Track, b: Track) -> float:
    """Mean landmark distance between two hand shapes (each centred on its centre, in its palm
    sizes): a real change of letter moves the fingers; drift and small turns hardly do."""
    total = 0.0
    for (x, y), (u, v) in zip(a.points, b.points):
        total += distance((x - a.centre[0]) / a.palm - (u - b.centre[0]) / b.palm,
                          (y - a.centre[1]) / a.palm - (v - b.centre[1]) / b.palm)
    return total / 21.0


def _argmax(values: Sequence[float], indices: Sequence[int] | range) -> int | None:
    """The index (of `indices`) with the largest value; the first on ties; None when empty."""
    best, best_value = None, -math.inf
    for i in indices:
        if values[i] > best_value:
            best, best_value = i, values[i]
    return best


