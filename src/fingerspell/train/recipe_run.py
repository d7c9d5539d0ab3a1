"""`train_recipe(recipe)`: train a recipe file's sampled landmark model into a run folder.

    run = train_recipe("recipes/default.yaml")          # fingerspell train --recipe ...
    # then: fingerspell export <run> --out DIR (export/recipe_bundle.py)

The training is `SampledFit` (train/sampled_fit.py), the loop of the accuracy protocols, on
the samples of every dataset in the recipe's data list that carry one of its labels and have
a hand found; each dataset is one source. It runs on the CPU with one torch thread, so the
weights do not depend on the machine's core count: the shipped default model is rebuilt from
`recipes/default.yaml` byte for byte.

The run folder holds config.json (the recipe, the data and the hand-detector settings the
landmarks were extracted with, what the data held, how long it took), best/last checkpoints
(the same weights: no validation split, the model is the last epoch's) and train.log. There
is no resume: a recipe run takes seconds to minutes.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic
from fingerspell.data.index import Dataset
from fingerspell.errors import TrainingError
from fingerspell.train.checkpoint import save_checkpoint
from fingerspell.train.landmark_data import cached_landmarks, canonical_label
from fingerspell.train.landmark_inputs import image_sizes
from fingerspell.train.recipe import RecipeFile, load_recipe
from fingerspell.train.run import Run, unique_run_dir
from fingerspell.train.run_log import RunLog
from fingerspell.train.sampled_fit import EpochStats, SampledFit, TrainingLandmarks


def recipe_landmarks(recipe: RecipeFile) -> tuple[TrainingLandmarks, dict[str, dict[str, Any]], dict[str, Any] | None]:
    """(training arrays, per-dataset counts, the detector settings of the landmarks).

    Rows come dataset by dataset in the data list's order, each in index order; every row is
    a sample with one of the recipe's labels and a hand found. The counts per dataset:
    `samples` (with a recipe label), `hands` (of them with a hand found), `found_rate`.
    Raises DatasetNotFoundError for a data entry that is not an imported dataset and
    TrainingError for one without landmarks, without any recipe label, or extracted with
    other detector settings than the rest.
    """
    from fingerspell.hands.extract import extraction_settings

    index = {label: i for i, label in enumerate(recipe.labels)}
    parts: list[tuple[np.ndarray, ...]] = []
    counts: dict[str, dict[str, Any]] = {}
    hands: dict[str, Any] | None = None
    hands_from = ""
    for name in recipe.data:
        with Dataset.load(name) as ds:
            samples = [s for s in ds.samples() if canonical_label(s.label) in index]
            if not samples:
                raise TrainingError(f"{recipe.path or 'recipe'}: dataset {name!r} has no sample labelled "
                                    f"{', '.join(recipe.labels[:5])}{'...' if len(recipe.labels) > 5 else ''}")
            points, found, handedness = cached_landmarks(ds, samples)
            kept = [s for s, f in zip(samples, found) if f]
            settings = extraction_settings(ds, [s.id for s in kept])
        if settings is not None:
            if hands is not None and settings != hands:
                raise TrainingError(f"dataset {name!r}: its landmarks were extracted with other hand-detector settings "
                                    f"than {hands_from!r}'s; re-extract one of them (`fingerspell data landmarks`)")
            hands, hands_from = settings, name
        counts[name] = {"samples": len(samples), "hands": int(found.sum()), "found_rate": round(float(found.mean()), 4)}
        parts.append((points[found], handedness[found], image_sizes(kept),
                      np.array([index[canonical_label(s.label)] for s in kept]), np.full(len(kept), name)))
    data = TrainingLandmarks(*(np.concatenate([p[i] for p in parts]) for i in range(5)))
    return data, counts, hands


def train_recipe(recipe: str | Path | RecipeFile, overrides: dict[str, Any] | list[str] | None = None,
                 runs_root: Path | None = None) -> Run:
    """Train a recipe (a file, or a parsed RecipeFile) into a new run folder named after it
    (`<name>`, `<name>-2`, ... under FINGERSPELL_HOME/runs) and return the Run.

    overrides: train keys for this run, e.g. {"epochs": 5} (files only).
    Raises ConfigError (bad recipe), UnknownModelError, DatasetNotFoundError and TrainingError.
    """
    import torch

    from fingerspell.models import get_model_spec

    if not isinstance(recipe, RecipeFile):
        recipe = load_recipe(recipe, overrides)
    spec = get_model_spec(recipe.train.model)
    if spec.input_kind != "landmarks":
        raise TrainingError(f"{recipe.path or 'recipe'}: model {recipe.train.model!r} does not read landmarks "
                            "(a recipe trains a landmark model; see `fingerspell models`)")
    data, counts, hands = recipe_landmarks(recipe)
    run_dir = unique_run_dir(recipe.name, runs_root)
    log = RunLog(run_dir / "train.log")
    sources = ", ".join(f"{name} ({c['hands']} hands)" for name, c in counts.items())
    log(f"run {run_dir.name}: {recipe.train.model} on {sources}, "
        f"{len(recipe.labels)} classes, {recipe.train.epochs} epochs, {recipe.train.per_source or 'all'} samples a source an epoch")
    history: list[dict[str, Any]] = []

    def on_epoch(stats: EpochStats) -> None:
        history.append({"epoch": stats.epoch, "train_loss": stats.train_loss, "train_acc": stats.train_acc,
                        "lr": stats.lr, "samples": stats.samples})
        log(f"epoch {stats.epoch}/{recipe.train.epochs}: train loss {stats.train_loss:.4f} acc {stats.train_acc:.2%} "
            f"| lr {stats.lr:.2e}")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the bytes of the weights must not depend on the core count
    try:
        started = time.perf_counter()
        model = SampledFit(data, len(recipe.labels), recipe.train, on_epoch).fit()
        seconds = time.perf_counter() - started
        with torch.no_grad():
            predicted = model(torch.as_tensor(data.features(np.arange(len(data))))).argmax(1).numpy()
    finally:
        torch.set_num_threads(threads)
    # Accuracy on its own training data; samples without a hand count as wrong.
    train_top1 = float((predicted == data.targets).sum()) / sum(c["samples"] for c in counts.values())
    log(f"trained in {seconds:.0f} s; accuracy on its own training data {train_top1:.2%} (no hand counts as wrong)")
    _write_run(run_dir, recipe, spec, model, hands, history,
               {"data": counts, "seconds": round(seconds, 1), "train_top1": round(train_top1, 4)})
    return Run.load(run_dir)


def _write_run(run_dir: Path, recipe: RecipeFile, spec: Any, model: Any, hands: dict[str, Any] | None,
               history: list[dict[str, Any]], training: dict[str, Any]) -> None:
    """config.json and the checkpoints (best = last: the final epoch's weights)."""
    import torch

    run_config: dict[str, Any] = {
        "name": run_dir.name, "data": "+".join(recipe.data), "model": recipe.train.model,
        "labels": list(recipe.labels), "spec": spec.to_dict(), "model_args": {}, "config": recipe.train.to_dict(),
        "recipe": recipe.to_dict(), "training": training, "device": "cpu", "threads": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "torch": torch.__version__,
    }
    if hands is not None:
        run_config["hands"] = hands
    metrics = {**history[-1], "train_top1": training["train_top1"]} if history else {"train_top1": training["train_top1"]}
    info = {"epoch": recipe.train.epochs, "metrics": metrics, "history": history, "stopped_early": False,
            "model": recipe.train.model, "labels": list(recipe.labels),
            "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for which in ("last", "best"):
        save_checkpoint(run_dir, which, model=model, info=info)
    atomic.write_json(run_dir / "config.json", run_config)  # last: a folder with it is a finished run
