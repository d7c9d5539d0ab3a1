"""Test-time views: still images are also detected through a few single attempts (a mirrored
copy with a border, a small border) and the model's probabilities are averaged."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fingerspell.data.images import read_image
from fingerspell.errors import BundleError
from fingerspell.evaluate.protocols import TEST_VIEWS
from fingerspell.export.bundle import Bundle
from fingerspell.infer.predictor import Predictor


def test_the_default_bundle_names_the_views_the_bench_measured(bundle_dir):
    assert Bundle.load(bundle_dir).extra.get("test_time_views") == list(TEST_VIEWS)


def test_views_average_over_more_hands_and_still_name_the_letter(bundle_dir, massey):
    image = read_image(sorted((massey / "b").iterdir())[0])
    with Predictor(bundle_dir, still="full") as with_views, Predictor(bundle_dir, test_views=False) as single:
        assert with_views.views == list(TEST_VIEWS) and single.views == []
        a, b = with_views.predict_image(image), single.predict_image(image)
    assert a.letter == b.letter == "B"
    assert a.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    # The views really ran (more detector time) and the answer is not the single view's.
    assert a.timings["hands"] > b.timings["hands"]
    assert not np.allclose(a.probabilities, b.probabilities)


def test_a_bundle_without_views_runs_one_detection(bundle_dir, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    manifest = json.loads((target / "bundle.json").read_text())
    manifest.pop("test_time_views", None)
    (target / "bundle.json").write_text(json.dumps(manifest))
    assert Predictor(target).views == []


@pytest.mark.parametrize("views", ["flip", [3], ["nonsense"]])
def test_bad_views_in_a_bundle_are_one_clear_error(bundle_dir, tmp_path, views):
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    manifest = json.loads((target / "bundle.json").read_text())
    manifest["test_time_views"] = views
    (target / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="test_time_views"):
        Predictor(target)
