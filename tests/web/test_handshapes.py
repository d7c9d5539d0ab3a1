"""Practice mode's reference handshapes: the committed JSON is what the script makes from the shared data."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.web.handshapes import OUTPUT, typical_handshapes


@pytest.fixture(scope="module")
def landmarks(datasets_root):
    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as data:
        return data["x"], data["y"]


def test_committed_handshapes_are_reproducible(landmarks):
    committed = json.loads(OUTPUT.read_text())["letters"]
    fresh = typical_handshapes(*landmarks)
    assert set(committed) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for letter, entry in fresh.items():
        assert committed[letter]["index"] == entry["index"]
        np.testing.assert_allclose(committed[letter]["points"], entry["points"], atol=1e-3)


def test_each_reference_is_a_real_hand_of_its_letter(landmarks):
    x, y = landmarks
    shapes = typical_handshapes(x, y)
    for letter, entry in shapes.items():
        assert str(y[entry["index"]]).upper() == letter
        points = np.asarray(entry["points"])
        assert points.shape == (21, 2) and np.allclose(points[0], 0)
    # L as seen in the mirrored view of a right hand: index finger up, thumb out to the left.
    l_hand = np.asarray(shapes["L"]["points"])
    assert l_hand[8, 1] < -1.5 and l_hand[4, 0] < -0.5


def test_bad_arrays_are_refused():
    with pytest.raises(FingerspellError, match="21, 3"):
        typical_handshapes(np.zeros((3, 20, 3)), np.array(["A", "B", "C"]))
