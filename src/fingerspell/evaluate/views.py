"""Test-time views: the same still images seen through a few single detector attempts.

The classifier's probabilities are averaged over every view that finds the hand, as
`Predictor` does for still images of the default bundle; `predict_set` does the same.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fingerspell.data.index import Dataset
from fingerspell.evaluate.landmark_sets import LandmarkSet, canonical_label

# Still images are also looked at through these single detector attempts (a mirrored copy with a
# border, a small border); the classifier's probabilities are averaged over every landmark set
# found. MediaPipe's landmarks are noisy per attempt, and the mean of a few estimates is a better
# answer than any one. Measured (`fingerspell bench accuracy`, full data, refined landmarks):
# asl-letters grouped by photo 91.6% -> 93.1%, Massey leave-one-signer-out 97.9% -> 99.6%
# (pooled). A third view (pad50-low or rot10-pad25-low) and training on the views' landmarks
# as extra samples each moved asl-letters by under 0.3 points; weighting rescued detections
# lower in training and seed ensembles (before refinement) by under half a point.
# The default bundle names them in bundle.json (`test_time_views`) so `Predictor` does the same.
TEST_VIEWS: tuple[str, ...] = ("flip-pad50-low", "pad25-low")


def load_views(dataset: Dataset, views: Sequence[str] = TEST_VIEWS, progress: bool = True) -> list[LandmarkSet]:
    """The dataset's samples seen through each single detector attempt in `views`.

    Image-file samples only (pixel rows and landmark-only datasets give "no hand" views).
    Cached in FINGERSPELL_HOME/landmark-views/ per dataset, view and detector settings, keyed
    by each sample's content hash, so a re-run only detects new or changed samples.
    Raises FingerspellError for an unknown attempt name.
    """
    return [load_detected(dataset, {"attempts": [view]}, view, progress) for view in views]


def load_detected(dataset: Dataset, settings: dict, tag: str, progress: bool = True) -> LandmarkSet:
    """The dataset's samples detected with DEFAULT_DETECTOR_SETTINGS updated by `settings`
    (e.g. {"attempts": ["pad25-low"]} for a test-time view, {"refine_steps": 0} for the
    predictor's fast path), as a LandmarkSet named "<dataset>:<tag>".

    Image-file samples only (others are "no hand"). Cached in FINGERSPELL_HOME/landmark-views/
    per dataset and detector settings, keyed by each sample's content hash.
    Raises FingerspellError for bad detector settings.
    """
    import hashlib
    import io

    from fingerspell import home
    from fingerspell.atomic import write_bytes
    from fingerspell.data.images import is_image_file, read_image
    from fingerspell.errors import CorruptImageError
    from fingerspell.hands.detector import HandDetector
    from fingerspell.hands.extract import DEFAULT_DETECTOR_SETTINGS

    from fingerspell.train.landmark_inputs import image_sizes

    samples = list(dataset.samples())
    labels = np.array([canonical_label(s.label) for s in samples], dtype=object).astype(str)
    groups = np.array([s.signer or "" for s in samples], dtype=object).astype(str)
    detector = HandDetector(**{**DEFAULT_DETECTOR_SETTINGS, **settings})
    key = hashlib.sha1(detector.settings_key.encode()).hexdigest()[:12]
    cache = home.home() / "landmark-views" / f"{dataset.name}-{key}.npz"
    points = np.zeros((len(samples), 21, 3), np.float32)
    found = np.zeros(len(samples), bool)
    handedness = np.full(len(samples), "", dtype="<U5")
    known: dict[str, int] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as old:
            known = {h: i for i, h in enumerate(old["hashes"])}
            old_points, old_found, old_hand = old["points"], old["found"], old["handedness"]
    todo = []
    for i, sample in enumerate(samples):
        j = known.get(sample.hash or "")
        if j is not None:
            points[i], found[i], handedness[i] = old_points[j], old_found[j], old_hand[j]
        elif sample.row is None and is_image_file(dataset.file_path(sample)):
            todo.append(i)
    if todo:
        from tqdm import tqdm

        for i in tqdm(todo, desc=f"{dataset.name} {tag}", disable=not progress, unit="img"):
            try:
                hand = detector.detect(read_image(dataset.file_path(samples[i])))
            except CorruptImageError:
                hand = None
            if hand is not None:
                points[i], found[i], handedness[i] = hand.landmarks, True, hand.handedness or ""
        buffer = io.BytesIO()
        np.savez(buffer, hashes=np.array([s.hash or "" for s in samples], dtype=str),
                 points=points, found=found, handedness=handedness)
        write_bytes(cache, buffer.getvalue())
    detector.close()
    return LandmarkSet(f"{dataset.name}:{tag}", labels, groups, points, handedness, image_sizes(samples), found)
