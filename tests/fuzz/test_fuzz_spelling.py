"""Fuzz the spelling rules the app runs (infer/spelling.py, the Python half of spelling.js):
any stream of frames - probabilities that are NaN, infinite, negative or of the wrong length,
landmarks of any shape or value, odd handedness and frame sizes, time going backwards - is
taken, or refused with one FingerspellError line; the text stays a string of the model's
letters and spaces."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from fingerspell.infer.spelling import Spelling
from tests.fuzz.helpers import count as tally
from tests.fuzz.helpers import outcome_of

LABELS = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["nothing"]
anything = st.floats(allow_nan=True, allow_infinity=True, width=32)
unit = st.floats(0, 1)
probabilities = (st.none() | st.lists(unit, min_size=len(LABELS), max_size=len(LABELS))
                 | st.lists(anything, min_size=len(LABELS), max_size=len(LABELS)) | st.lists(unit, max_size=30))
points = st.lists(st.tuples(unit, unit, st.floats(-0.3, 0.3)), min_size=21, max_size=21)
landmarks = st.none() | points | st.lists(st.tuples(anything, anything, anything), min_size=21, max_size=21)
frames = st.lists(st.tuples(st.floats(-1, 1000, allow_nan=False), probabilities, landmarks,
                            st.sampled_from(["Left", "Right", None, "", "up"]),
                            st.none() | st.tuples(st.integers(-5, 4000), st.integers(-5, 4000))), max_size=50)
options = st.fixed_dictionaries({}, optional={"threshold": st.floats(0, 1), "space_after": st.floats(0, 3)})


@given(options=options, frames=frames, edits=st.lists(st.sampled_from(["space", "back", "clear", "reset"]), max_size=3))
def test_fuzz_spelling(options, frames, edits):
    allowed = set(LABELS) | {" "}

    def run():
        spelling = Spelling(LABELS, options)
        for index, (t, probs, marks, handedness, size) in enumerate(frames):
            if edits and index == len(frames) // 2:
                for edit in edits:
                    {"space": spelling.add_space, "back": spelling.backspace, "clear": spelling.clear,
                     "reset": spelling.reset}[edit]()
            step = spelling.push(t, probs, marks, handedness, size)
            assert step.text == spelling.text
            assert step.letter is None or step.letter in LABELS
        assert set(spelling.text) <= allowed, spelling.text
        json.dumps(spelling.letters())
        return spelling

    outcome_of("spelling", run, check_index=False)
    tally("spelling-streams", "fed")
