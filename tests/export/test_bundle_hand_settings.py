"""A landmark model trained on an IMAGE dataset exports the detector its landmarks were made
with, and the bundle's predictor runs that detector (not the bundle format's defaults)."""
from __future__ import annotations

import json
import os
import shutil

from fingerspell.data.importer import import_dataset
from fingerspell.export.bundle import Bundle
from fingerspell.export.onnx import DEFAULT_HANDS, export_run
from fingerspell.hands.extract import DEFAULT_DETECTOR_SETTINGS, extract_landmarks, settings_key
from fingerspell.infer.predictor import Predictor
from fingerspell.train.loop import train

os.environ.setdefault("GLOG_minloglevel", "2")

LETTERS = ("a", "b", "c")
PER_LETTER = 3
# Not the extraction defaults and not the bundle format's defaults, so neither can pass by luck.
EXTRACTION = {**DEFAULT_DETECTOR_SETTINGS, "refine_steps": 1, "zoom": 2.0}


def test_exported_landmark_bundle_records_the_training_detector(tmp_path, datasets_root):
    import torch

    torch.set_num_threads(1)
    root = tmp_path / "massey-small"
    for letter in LETTERS:
        (root / letter).mkdir(parents=True)
        for name in sorted((datasets_root / "massey" / "asl_dataset" / letter).iterdir())[:PER_LETTER]:
            shutil.copy(name, root / letter / name.name)
    ds = import_dataset(root, name="massey-small")
    stats = extract_landmarks(ds, progress=False, detector_settings=EXTRACTION, workers=1)
    assert stats.found == len(LETTERS) * PER_LETTER
    run = train("massey-small", "landmark-mlp-small", epochs=1, progress=False, threads=1)

    recorded = json.loads((run.path / "config.json").read_text())["hands"]
    assert json.dumps(recorded, sort_keys=True, separators=(",", ":")) == settings_key(EXTRACTION)

    out = export_run(run.path, out=tmp_path / "bundle", echo=None)
    hands = Bundle.load(out).hands
    assert (hands.model_complexity, hands.min_detection_confidence, hands.robust, hands.refine_steps,
            hands.tint_grey, hands.zoom) == (EXTRACTION["model_complexity"], EXTRACTION["min_detection_confidence"],
                                             EXTRACTION["robust"], 1, EXTRACTION["tint_grey"], 2.0)
    assert hands != DEFAULT_HANDS
    with Predictor(out, test_views=False) as predictor:
        # The predictor's still-image detector is the one the training landmarks came from:
        # same settings, so it would hit the same landmark cache key.
        assert predictor.detector("image").settings_key == settings_key(EXTRACTION)
