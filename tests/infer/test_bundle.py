"""Bundle manifests: the shipped default loads; every missing or broken piece is one clear error."""
from __future__ import annotations

import json
import shutil

import pytest

from fingerspell.errors import BundleError
from fingerspell.export.bundle import Bundle
from fingerspell.infer.predictor import Predictor


def test_default_bundle_loads_and_describes_itself(bundle_dir):
    bundle = Bundle.load(bundle_dir)
    assert bundle.model_path.is_file() and not (bundle_dir / "model.onnx.data").exists()
    assert set("ABCDEFGHIKLMNOPQRSTUVWXY") <= set(bundle.labels)
    assert bundle.input.kind in ("landmarks", "image")
    assert bundle.hands.model_complexity in (0, 1)
    # Served with the detector settings its training landmarks were extracted with.
    from fingerspell.hands.extract import DEFAULT_DETECTOR_SETTINGS
    assert (bundle.hands.refine_steps, bundle.hands.tint_grey) == (
        DEFAULT_DETECTOR_SETTINGS["refine_steps"], DEFAULT_DETECTOR_SETTINGS["tint_grey"])
    # The manifest round-trips: what save_manifest writes is what load reads.
    again = Bundle.from_manifest(bundle_dir, json.loads(json.dumps(bundle.manifest())))
    assert again.labels == bundle.labels and again.input == bundle.input


@pytest.fixture()
def copy(bundle_dir, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    return target


def _edit(folder, change):
    data = json.loads((folder / "bundle.json").read_text())
    change(data)
    (folder / "bundle.json").write_text(json.dumps(data))


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "bundle.json").unlink(), "bundle manifest is missing"),
    (lambda f: (f / "model.onnx").unlink(), "bundle model is missing"),
    (lambda f: (f / "bundle.json").write_text('{"labels": ["A",\n  oops}'), "line 2: invalid JSON"),
    (lambda f: _edit(f, lambda d: d.pop("labels")), "missing key 'labels'"),
    (lambda f: _edit(f, lambda d: d["input"].update(kind="audio")), "'input.kind' is 'audio'"),
    (lambda f: _edit(f, lambda d: d.update(labels=["A", "A"])), "duplicates"),
    (lambda f: (f / "model.onnx.data").write_bytes(b"x"), "external data"),
])
def test_broken_bundles_name_the_file_and_the_problem(copy, damage, message):
    damage(copy)
    with pytest.raises(BundleError, match=message) as info:
        Bundle.load(copy)
    assert str(copy) in str(info.value)


def test_missing_bundle_folder(tmp_path):
    with pytest.raises(BundleError, match="no such model bundle"):
        Bundle.load(tmp_path / "nope")


def test_labels_that_do_not_match_the_model_are_refused(copy):
    _edit(copy, lambda d: d.update(labels=d["labels"][:-1]))
    with pytest.raises(BundleError, match="outputs but the manifest has"):
        Predictor(copy)


def test_a_model_file_that_is_not_onnx_is_refused(copy):
    (copy / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(BundleError, match="onnxruntime cannot load"):
        Predictor(copy)


def test_inference_never_imports_torch(bundle_dir, datasets_root, tmp_path):
    """The predictor runs from ONNX + JSON alone: a fresh interpreter predicting an image
    must not load torch (it is slow to import and not needed to run a bundle)."""
    import subprocess
    import sys

    image = sorted((datasets_root / "massey" / "asl_dataset" / "b").iterdir())[0]
    code = (
        "import sys; from fingerspell.infer.predictor import Predictor; "
        f"p = Predictor({str(bundle_dir)!r}); r = p.predict_image(__import__('fingerspell.data.images', "
        f"fromlist=['read_image']).read_image({str(image)!r})); "
        "print(r.letter, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    letter, torch_loaded = result.stdout.split()[-2:]
    assert torch_loaded == "False"


def test_tracking_can_use_its_own_hand_model(copy):
    _edit(copy, lambda d: d["hands"].update(model_complexity=1, tracking_model_complexity=0))
    predictor = Predictor(copy)
    assert (predictor.model_complexity, predictor.tracking_model_complexity) == (1, 0)
    assert predictor.detector("video").model_complexity == 0 and predictor.detector("image").model_complexity == 1
    assert Predictor(copy, model_complexity=1).tracking_model_complexity == 1  # an explicit choice wins
    _edit(copy, lambda d: d["hands"].update(tracking_model_complexity=3))
    with pytest.raises(BundleError, match="tracking_model_complexity"):
        Bundle.load(copy)


def test_still_image_detection_follows_the_bundle(copy):
    """The detector runs as the landmarks the model was trained on were made."""
    _edit(copy, lambda d: d["hands"].update(refine_steps=2, tint_grey=True, zoom=3.0))
    predictor = Predictor(copy)
    for detector in (predictor.detector("image"), predictor.view_detector("pad25-low")):
        assert (detector.refine_steps, detector.tint_grey, detector.zoom) == (2, True, 3.0)
    assert Predictor(copy, refine=False).detector("image").refine_steps == 0  # `predict --fast`
    # A bundle from before these settings existed keeps the detector it was trained with.
    _edit(copy, lambda d: [d["hands"].pop(k) for k in ("refine_steps", "tint_grey", "zoom")])
    detector = Predictor(copy).detector("image")
    assert (detector.refine_steps, detector.tint_grey, detector.zoom) == (0, False, 0.0)
    _edit(copy, lambda d: d["hands"].update(refine_steps=-1))
    with pytest.raises(BundleError, match="refine_steps"):
        Bundle.load(copy)
    _edit(copy, lambda d: d["hands"].update(refine_steps=2, zoom=0.5))
    with pytest.raises(BundleError, match="zoom"):
        Bundle.load(copy)
