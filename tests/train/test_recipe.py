"""`fingerspell train --recipe FILE` + `fingerspell export`: the public path of the shipped
default model (recipes/default.yaml), on tiny real asl-landmarks subsets (their landmarks ship
with the data). The full byte-for-byte rebuild of the default bundle is bench/train_default.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from fingerspell.cli import main
from fingerspell.evaluate.landmark_fit import Recipe, fit_landmark_model
from fingerspell.evaluate.landmark_sets import LandmarkSet, load_landmark_set
from fingerspell.export.bundle import Bundle
from fingerspell.infer.predictor import Predictor
from fingerspell.train.checkpoint import load_checkpoint
from fingerspell.train.landmark_inputs import LandmarkAugment
from fingerspell.train.recipe import load_recipe
from tests.train.helpers import make_landmarks

REPO = Path(__file__).resolve().parents[2]
LABELS = list("ABCDE")
TRAIN = {"epochs": 3, "batch_size": 16, "per_source": 40, "seed": 2}


def write_recipe(path: Path, **changes) -> Path:
    recipe = {"name": "tiny", "model": "landmark-mlp-small", "labels": LABELS, "data": ["webcam-a", "webcam-b"],
              "train": dict(TRAIN), "bundle": {"test_time_views": ["flip-pad50-low"], "tracking_model_complexity": 0}}
    recipe.update(changes)
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


@pytest.fixture
def two_sources(datasets_root):
    # Two sources of different sizes, so the per-source draw matters (60 vs 40 cap vs 12).
    make_landmarks(datasets_root, "webcam-a", "ABCDE", 12).close()
    make_landmarks(datasets_root, "webcam-b", "ABCDE", 4).close()


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_recipe_run_has_the_protocols_weights_and_exports_a_bundle_that_predicts(two_sources, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    recipe = write_recipe(tmp_path / "tiny.yaml")
    assert main(["train", "--recipe", str(recipe), "epochs=4"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("run: "))
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["recipe"]["data"] == ["webcam-a", "webcam-b"] and saved["config"]["epochs"] == 4

    # The same weights as the accuracy protocols' in-memory fit of the same data and recipe.
    sets = [load_landmark_set(name).letters(LABELS) for name in ("webcam-a", "webcam-b")]
    sources = np.concatenate([np.full(len(s), s.name) for s in sets])
    expected = fit_landmark_model(LandmarkSet.concat(sets), LABELS, Recipe(model="landmark-mlp-small", epochs=4,
                                  batch_size=16, per_source=40, seed=2, augment=LandmarkAugment()), sources)
    got = load_checkpoint(run_dir / "best.safetensors").model_state
    assert set(got) == set(expected.state_dict())
    assert all(torch.equal(got[k], v) for k, v in expected.state_dict().items())

    out = tmp_path / "bundle"
    assert main(["export", str(run_dir), "--out", str(out)]) == 0
    bundle = Bundle.load(out)
    assert bundle.name == "tiny" and bundle.labels == LABELS
    assert bundle.hands.tracking_model_complexity == 0
    assert bundle.extra["test_time_views"] == ["flip-pad50-low"]
    assert bundle.extra["training"]["data"] == {"webcam-a": {"hands": 60, "found_rate": 1.0},
                                                 "webcam-b": {"hands": 20, "found_rate": 1.0}}
    assert (out / "browser.onnx").is_file()
    data = sets[0]
    with Predictor(out, test_views=False) as predictor:
        predicted = predictor.run_model(data.features()).argmax(1)
    assert np.mean(np.array(LABELS)[predicted] == data.labels) >= 0.9

    # `fingerspell eval` reads a recipe run too (its config.json holds the recipe's keys).
    capsys.readouterr()
    assert main(["eval", str(run_dir), "--data", "webcam-a", "--split", "all"]) == 0
    printed = capsys.readouterr().out
    assert "top-1" in printed and "60 samples" in printed, printed


def test_re_export_keeps_what_later_steps_wrote_only_for_the_same_model(two_sources, tmp_path, capsys):
    import fingerspell as fs

    recipe = write_recipe(tmp_path / "tiny.yaml", train={**TRAIN, "epochs": 1})
    first = fs.train_recipe(recipe).path  # the Python API's name for `train --recipe`
    assert main(["train", "--recipe", str(recipe), "seed=5"]) == 0
    second = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("run: "))
    assert (first.name, second.name) == ("tiny", "tiny-2")
    out = tmp_path / "bundle"
    assert main(["export", str(first), "--out", str(out)]) == 0
    manifest = json.loads((out / "bundle.json").read_text())
    manifest["calibration"] = {"temperature": 1.5}
    (out / "bundle.json").write_text(json.dumps(manifest))
    assert main(["export", str(first), "--out", str(out)]) == 0  # the same model: kept
    assert json.loads((out / "bundle.json").read_text())["calibration"] == {"temperature": 1.5}
    assert main(["export", str(second), "--out", str(out)]) == 0  # another model: dropped
    assert "calibration" not in json.loads((out / "bundle.json").read_text())


@pytest.mark.parametrize("changes, message", [
    ({"train": {"epocs": 2}}, "unknown key 'train.epocs'; did you mean 'train.epochs'?"),
    ({"dataa": ["webcam-a"]}, "unknown key 'dataa'; did you mean 'data'?"),
    ({"data": "webcam-a"}, "data must be a non-empty list of names"),
    ({"train": {"batch_size": "big"}}, "train.batch_size must be int"),
])
def test_a_bad_recipe_is_one_line_naming_the_file_and_key(tmp_path, capsys, changes, message):
    recipe = write_recipe(tmp_path / "bad.yaml", **changes)
    assert main(["train", "--recipe", str(recipe)]) != 0
    err = one_error(capsys)
    assert str(recipe) in err and message in err


def test_a_data_list_entry_that_is_not_imported_is_one_line(two_sources, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", data=["webcam-a", "webcam-c"])
    assert main(["train", "--recipe", str(recipe)]) != 0
    assert "webcam-c" in one_error(capsys)


def test_the_default_recipe_is_the_protocols_full_recipe():
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE
    from fingerspell.evaluate.landmark_sets import LETTERS
    from fingerspell.evaluate.views import TEST_VIEWS

    recipe = load_recipe(REPO / "recipes" / "default.yaml")
    assert recipe.train == FULL_RECIPE
    assert list(recipe.labels) == LETTERS
    assert recipe.data == ("massey", "asl-letters", "asl-alphabet", "asl-landmarks")
    assert recipe.bundle["test_time_views"] == list(TEST_VIEWS)
    shipped = json.loads((REPO / "src" / "fingerspell" / "models" / "default" / "bundle.json").read_text())
    assert shipped["training"]["recipe"] == FULL_RECIPE.to_dict()
    assert shipped["hands"]["tracking_model_complexity"] == recipe.bundle["tracking_model_complexity"]


def test_a_data_entry_that_is_a_path_is_refused_before_anything_is_read(tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", data=["../../etc/passwd"])
    assert main(["train", "--recipe", str(recipe)]) != 0
    err = one_error(capsys)
    assert str(recipe) in err and "invalid dataset name" in err
