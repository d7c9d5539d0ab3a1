"""Real landmark material for the spelling tests: asl-landmarks takes, a few Massey photos'
landmarks, and the default bundle's calibrated probabilities on any stream of frames."""
from __future__ import annotations

import pytest

from fingerspell.infer.spelling import Spelling
from fingerspell.infer.spelling_data import LandmarkModel, Stream, landmark_takes, massey_poses, photo_pose


@pytest.fixture(scope="session")
def takes(datasets_root):
    """asl-landmarks takes; tests use takes 3-4 (the bench's report split: not tuned on, and
    not seen by the J/Z motion model)."""
    return {letter: parts[2:] for letter, parts in landmark_takes(datasets_root / "asl-landmarks" / "landmarks.npz").items()}


@pytest.fixture(scope="session")
def photos(datasets_root, tmp_path_factory):
    """Landmarks of the first Massey photo of signer hand3 for a few letters (MediaPipe, still-image mode)."""
    poses = massey_poses(datasets_root / "massey" / "asl_dataset", "ABCLO", ["hand3"], 1,
                         cache=tmp_path_factory.mktemp("poses") / "poses.npz")
    return {pose.letter: pose for pose in poses}


@pytest.fixture(scope="session")
def model(bundle_dir):
    return LandmarkModel(bundle_dir)


def spell(model, stream: Stream, params=None, threshold=None):
    """Run the bundle's rules over a stream: (Spelling, per-frame steps)."""
    speller = Spelling(model.labels, {**model.bundle.extra.get("spelling", {}), **(params or {})})
    if threshold is not None:
        speller.threshold = threshold
    steps = [speller.push(f["t"], p, f["landmarks"], f["handedness"], f["size"], frame=i)
             for i, (f, p) in enumerate(zip(stream.frames, model.probabilities(stream.frames)))]
    return speller, steps


def placed(stream: Stream, pose):
    """A photo's landmarks on the stream's canvas."""
    return photo_pose(pose.landmarks, pose.image_size, stream.rng)
