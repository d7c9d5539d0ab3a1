"""Landmark features on real MediaPipe landmarks (the shared asl-landmarks set)."""
from __future__ import annotations

import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.hands.features import (
    FEATURE_SIZE,
    FEATURES_VERSION,
    handedness_from_geometry,
    landmark_features,
    landmark_features_batch,
)


@pytest.fixture(scope="module")
def real_landmarks(datasets_root):
    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    # Two hands of every letter: a small, varied, real sample.
    picks = np.concatenate([np.flatnonzero(y == letter)[:2] for letter in np.unique(y)])
    return x[picks].astype(np.float32), y[picks]


def test_features_have_the_documented_size_and_are_finite(real_landmarks):
    points, _ = real_landmarks
    features = landmark_features_batch(points, ["Left"] * len(points), (640, 480))
    assert FEATURES_VERSION
    assert features.shape == (len(points), FEATURE_SIZE)
    assert features.dtype == np.float32
    assert np.isfinite(features).all()
    one = landmark_features(points[0], "Left", (640, 480))
    np.testing.assert_allclose(one, features[0], atol=1e-6)


def test_mirrored_left_hand_gives_the_same_features_as_the_right(real_landmarks):
    points, _ = real_landmarks
    mirrored = points.copy()
    mirrored[:, :, 0] = 1.0 - mirrored[:, :, 0]  # the same photo flipped left-right
    right = landmark_features_batch(points, ["Left"] * len(points), (640, 480))
    left = landmark_features_batch(mirrored, ["Right"] * len(points), (640, 480))
    np.testing.assert_allclose(left, right, atol=1e-4)
    # Without the handedness swap the mirrored hand really is different.
    assert np.abs(landmark_features_batch(mirrored, ["Left"] * len(points), (640, 480)) - right).max() > 0.1


def test_features_ignore_position_size_and_aspect_of_the_frame(real_landmarks):
    points, _ = real_landmarks
    base = landmark_features_batch(points, ["Left"] * len(points), (640, 480))
    # The same hand in a frame padded to 1000x700 pixels (hand smaller, elsewhere, other aspect).
    pixels = points * np.array([640, 480, 640], dtype=np.float32)
    moved = (pixels + np.array([200, 110, 0], dtype=np.float32)) / np.array([1000, 700, 1000], dtype=np.float32)
    np.testing.assert_allclose(landmark_features_batch(moved, ["Left"] * len(points), (1000, 700)), base, atol=1e-4)
    # Twice the resolution: identical too.
    np.testing.assert_allclose(landmark_features_batch(points, ["Left"] * len(points), (1280, 960)), base, atol=1e-4)


def test_unknown_handedness_is_guessed_from_the_3d_shape(real_landmarks):
    points, _ = real_landmarks
    pixels = points * np.array([640, 480, 640], dtype=np.float32)
    guess = handedness_from_geometry(pixels)
    mirrored = pixels.copy()
    mirrored[:, :, 0] *= -1
    flipped = handedness_from_geometry(mirrored)
    assert set(guess) <= {"Left", "Right"}
    assert (guess != flipped).all()  # mirroring a hand always swaps the guess
    unknown = landmark_features_batch(points, [None] * len(points), (640, 480))
    known = landmark_features_batch(points, list(guess), (640, 480))
    np.testing.assert_allclose(unknown, known, atol=1e-6)


@pytest.mark.parametrize(
    "points, handedness, message",
    [
        (np.zeros((20, 3)), "Left", "shape"),
        (np.full((21, 3), np.nan), "Left", "NaN"),
        (np.zeros((21, 3)), "Middle", "handedness"),
    ],
)
def test_bad_landmarks_raise_one_clear_error(points, handedness, message):
    with pytest.raises(FingerspellError, match=message):
        landmark_features(points, handedness, (640, 480))
