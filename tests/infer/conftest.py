"""Fixtures for the inference tests: the shipped default bundle, real photos the model gets
right, and videos assembled from them."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from fingerspell.data.images import read_image
from fingerspell.home import default_bundle_dir

from .clips import place


@pytest.fixture(scope="session")
def bundle_dir() -> Path:
    """The default bundle shipped in the package (FINGERSPELL_TEST_BUNDLE may point elsewhere
    while developing a new one)."""
    path = Path(os.environ.get("FINGERSPELL_TEST_BUNDLE") or default_bundle_dir())
    if not (path / "bundle.json").is_file():
        pytest.fail(f"no model bundle at {path}: the default bundle must ship in src/fingerspell/models/default")
    return path


@pytest.fixture(scope="session")
def predictor(bundle_dir):
    from fingerspell.infer.predictor import Predictor

    with Predictor(bundle_dir) as p:
        yield p


@pytest.fixture(scope="session")
def massey(datasets_root) -> Path:
    return datasets_root / "massey" / "asl_dataset"


@pytest.fixture(scope="session")
def letter_photos(massey, predictor) -> dict[str, np.ndarray]:
    """For each letter a test needs, the first Massey photo (in path order) that the model
    recognises with confidence >= 0.7 when placed on the 640x480 test canvas. The videos test
    the tracking, smoothing and spelling, not the classifier, so they use photos it gets right."""
    found: dict[str, np.ndarray] = {}
    for letter in "HIELO":
        for path in sorted((massey / letter.lower()).iterdir())[:40]:
            image = read_image(path)
            p = predictor.predict_image(place(image))
            if p.letter == letter and p.confidence >= 0.7:
                found[letter] = image
                break
        else:
            pytest.fail(f"the model recognises none of the first 40 Massey photos of {letter}")
    return found
