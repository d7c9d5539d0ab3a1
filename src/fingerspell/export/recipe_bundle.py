"""Export a recipe run (`fingerspell train --recipe`) to a bundle; `export_run` hands these over.

A recipe run trained on all of its data, so the ONNX check runs on an even spread of the
training samples (the accuracy on unseen signers is `fingerspell bench accuracy`'s job). The
bundle records what the recipe says beyond the weights: the hand-detector settings the
training landmarks were extracted with plus the recipe's tracking model for video, the
test-time views for still images, and where the model came from (`training`).

Later steps add keys to bundle.json: `bench/train_spelling.py` the calibration and the spelling
rules, `bench/train_default.py --benchmarks` the accuracy numbers. They describe the model, so
when a re-export writes the very same model.onnx bytes into a bundle folder, the keys it does
not write itself are kept; a changed model drops them (rerun those steps).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import __version__
from fingerspell.atomic import write_bytes
from fingerspell.errors import ExportError
from fingerspell.export.bundle import MANIFEST_NAME, MODEL_NAME, Bundle, HandSettings, InputSpec
from fingerspell.export.hand_settings import hand_settings_for_run
from fingerspell.export.onnx_bytes import session, to_onnx_bytes

# The ONNX opset of recipe bundles: 20 has a Gelu operator (the MLP's activation in one node,
# as the shipped default's model.onnx has it; 17 spells it out in several).
RECIPE_OPSET = 20
# Rows of the training data the exporter traces with (any would do: see to_onnx_bytes).
EXAMPLE_ROWS = 8
MAX_ABS_DIFF = 1e-4
# Keys this module writes; any other key of an existing bundle.json may be kept (see above).
_OWN_KEYS = ("name", "version", "created", "labels", "input", "hands", "test_time_views", "model", "training",
             "export_check", "fingerspell_version")


def is_recipe_run(run_config: dict[str, Any]) -> bool:
    return isinstance(run_config.get("recipe"), dict)


def export_recipe_run(model: Any, info: Any, run_config: dict[str, Any], folder: Path, bundle_name: str | None,
                      max_samples: int = 2000, echo: Callable[[str], None] = print) -> Path:
    """Write `folder`/model.onnx, browser.onnx and bundle.json for a recipe run's `model`.

    Raises ExportError when onnxruntime disagrees with PyTorch (beyond 1e-4 or on a top-1)
    and DatasetNotFoundError / TrainingError when the recipe's datasets are gone.
    """
    import torch

    from fingerspell.hands.features import FEATURES_VERSION
    from fingerspell.train.recipe import RecipeFile
    from fingerspell.train.recipe_run import recipe_landmarks

    recipe = RecipeFile.from_dict(run_config["recipe"], f"{info.path / 'config.json'}")
    data, _counts, _hands = recipe_landmarks(recipe)
    features = data.features(np.arange(len(data)))
    model_bytes = to_onnx_bytes(model, torch.as_tensor(features[:EXAMPLE_ROWS]), "features", RECIPE_OPSET)
    rows = np.unique(np.linspace(0, len(features) - 1, min(max_samples or len(features), len(features))).round().astype(int))
    runtime = session(model_bytes)
    with torch.no_grad():
        expected = model(torch.as_tensor(features[rows])).numpy()
    got = runtime.run(["logits"], {"features": features[rows]})[0]
    diff = float(np.abs(got - expected).max())
    mismatches = int((got.argmax(1) != expected.argmax(1)).sum())
    echo(f"parity on {len(rows)} training samples: max |torch - onnx| = {diff:.2e} (limit {MAX_ABS_DIFF:.0e}), "
         f"top-1 differs on {mismatches}")
    if diff > MAX_ABS_DIFF or mismatches:
        raise ExportError(f"run {info.name}: onnxruntime disagrees with PyTorch (max abs diff {diff:.2e}, "
                          f"{mismatches} top-1 differences); bundle not written")

    folder.mkdir(parents=True, exist_ok=True)
    kept = _kept_keys(folder, model_bytes, echo)
    extras = recipe.bundle
    hands = hand_settings_for_run(info.path, HandSettings(model_complexity=0, min_detection_confidence=0.5, robust=True))
    if "tracking_model_complexity" in extras:
        hands = dataclasses.replace(hands, tracking_model_complexity=int(extras["tracking_model_complexity"]))
    extra: dict[str, Any] = {}
    if extras.get("test_time_views"):
        # Still images: also detect through these single attempts and average the model's
        # probabilities (Predictor(test_views=True)); the bench scores Massey and asl-letters so.
        extra["test_time_views"] = list(extras["test_time_views"])
    extra["model"] = {"architecture": recipe.train.model, "parameters": sum(p.numel() for p in model.parameters()),
                      "onnx_bytes": len(model_bytes), "outputs": "logits (softmax for confidences)"}
    training = dict(run_config.get("training", {}))
    extra["training"] = {
        "data": {name: {"hands": c["hands"], "found_rate": c["found_rate"]} for name, c in training.get("data", {}).items()},
        "seconds": training.get("seconds"), "train_top1": training.get("train_top1"),
        "recipe": recipe.train.to_dict(), "recipe_file": _shown_path(recipe.path), "run": info.name,
    }
    extra["export_check"] = {"samples": len(rows), "max_abs_diff": diff, "top1_mismatches": mismatches,
                             "opset": RECIPE_OPSET}
    extra["fingerspell_version"] = __version__
    benchmarks = kept.pop("benchmarks", {})
    bundle = Bundle(
        path=folder, name=bundle_name or recipe.name, version="1",
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        labels=list(recipe.labels),
        input=InputSpec(kind="landmarks", shape=[1, int(features.shape[1])], names=["features"], features=FEATURES_VERSION),
        hands=hands, benchmarks=benchmarks if isinstance(benchmarks, dict) else {}, extra={**extra, **kept},
    )
    write_bytes(folder / MODEL_NAME, model_bytes)
    (folder / f"{MODEL_NAME}.data").unlink(missing_ok=True)
    bundle.save_manifest()
    Bundle.load(folder)  # what we wrote must load: fail here, not in a user's predictor
    from fingerspell.export.browser import write_browser_model

    echo(f"browser model: {write_browser_model(folder)}")
    echo(f"bundle written to {folder}")
    return folder


def _kept_keys(folder: Path, model_bytes: bytes, echo: Callable[[str], None]) -> dict[str, Any]:
    """The keys of folder's bundle.json to keep (see the module docstring)."""
    manifest, model = folder / MANIFEST_NAME, folder / MODEL_NAME
    if not (manifest.is_file() and model.is_file()):
        return {}
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    rest = {k: v for k, v in old.items() if k not in _OWN_KEYS and v} if isinstance(old, dict) else {}
    if model.read_bytes() == model_bytes:
        if rest:
            echo(f"model.onnx is unchanged: kept {', '.join(sorted(rest))} from the previous bundle.json")
        return rest
    if rest:
        echo(f"model.onnx changed: dropped {', '.join(sorted(rest))} of the previous bundle.json (they described the old model; "
             "rerun the steps that wrote them)")
    return {}


def _shown_path(path: str) -> str:
    """A recipe file as bundle.json names it: relative to the working folder when inside it
    (recipes/default.yaml), else its file name (no machine's absolute paths in a bundle)."""
    if not path:
        return ""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).name
