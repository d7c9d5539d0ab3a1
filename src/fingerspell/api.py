"""The Python API: the whole lifecycle in a few calls, each also a `fingerspell` command.

    import fingerspell as fs
    ds = fs.import_dataset("../shared/datasets/massey", name="massey")     # fingerspell data import
    fs.split_dataset(ds, by="group")                                         # fingerspell data split
    run = fs.train_model(ds, "letters-cnn", epochs=5)                        # fingerspell train
    report = fs.evaluate_model(run, ds, split="test")                        # fingerspell evaluate
    bundle = fs.export_model(run)                                            # fingerspell export
    for p in fs.predict("photos/", bundle):                                  # fingerspell predict
        print(p.source, p.letter, p.confidence)

The verbs are `train_model` / `evaluate_model` rather than `train` / `evaluate` because
`fingerspell.train` and `fingerspell.evaluate` are the subpackages that do the work: one name
cannot be both. Everything heavy (torch, onnxruntime, MediaPipe) is imported inside the
functions, so `import fingerspell` stays cheap.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The classes the API returns. Importing them loads no torch, onnxruntime or MediaPipe (their
# modules import those inside functions), so the annotations are real at run time too.
from fingerspell.data.index import Dataset
from fingerspell.data.split import SplitSummary
from fingerspell.evaluate.report import Report
from fingerspell.export.bundle import Bundle
from fingerspell.infer.predictor import Prediction, Predictor
from fingerspell.train.checkpoint import RunInfo
from fingerspell.train.run import Run


def _run_path(run: str | Path | Run) -> str | Path:
    """A Run's folder, or the name / folder given."""
    return getattr(run, "path", run)  # type: ignore[return-value]


def _dataset_name(data: str | Dataset) -> str:
    return data.name if isinstance(data, Dataset) else data


def import_dataset(path: str | Path, format: str = "auto", name: str | None = None, **kwargs: Any) -> Dataset:
    """Import a dataset folder or file; see `fingerspell.data.importer.import_dataset`.
    Raises DatasetFormatError (naming the file and the problem)."""
    from fingerspell.data.importer import import_dataset as _import

    return _import(path, format=format, name=name, **kwargs)


def split_dataset(dataset: Dataset | str, by: str = "random", val: float = 0.15, test: float = 0.15, seed: int = 0,
                  **kwargs: Any) -> SplitSummary:
    """Assign train/val/test and store it in the index; see `fingerspell.data.split.split_dataset`.
    Raises DatasetNotFoundError and FingerspellError (bad fractions, no groups for by="group")."""
    from fingerspell.data.split import split_dataset as _split

    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    return _split(ds, by=by, val=val, test=test, seed=seed, **kwargs)


def list_models() -> list[str]:
    """Names of the registered models."""
    from fingerspell.models import list_models as _list

    return _list()


def train_model(data: str | Dataset, model: str, config: str | Path | None = None, **overrides: Any) -> Run:
    """Train `model` on `data` into a new run folder; see `fingerspell.train.loop.train`.
    Raises ConfigError, UnknownModelError, DatasetNotFoundError and TrainingError."""
    from fingerspell.train.loop import train as _train

    return _train(data, model, config, **overrides)


def train_recipe(recipe: str | Path, **overrides: Any) -> Run:
    """Train a recipe file (e.g. recipes/default.yaml: model, labels, data list, settings) into a
    new run folder; `overrides` are its train keys (epochs=5). See
    `fingerspell.train.recipe_run.train_recipe`. Raises ConfigError, UnknownModelError,
    DatasetNotFoundError and TrainingError."""
    from fingerspell.train.recipe_run import train_recipe as _train_recipe

    return _train_recipe(recipe, overrides)


def resume(run: str | Path | Run) -> Run:
    """Continue a killed run from its last checkpoint. Raises RunNotFoundError, TrainingError."""
    from fingerspell.train.loop import resume as _resume

    return _resume(_run_path(run))


def evaluate_model(run: str | Path | Run, data: str | Dataset, split: str | None = "test", out: str | Path | None = None,
                   **kwargs: Any) -> Report:
    """Evaluate a run on a split and write report.html/json + PNGs; see
    `fingerspell.evaluate.report.evaluate`. Raises RunNotFoundError, DatasetNotFoundError,
    TrainingError and FingerspellError (unknown split, nothing to evaluate)."""
    from fingerspell.evaluate.report import evaluate as _evaluate

    return _evaluate(_run_path(run), _dataset_name(data), split, out, **kwargs)


def export_model(run: str | Path | Run, out: str | Path | None = None, quantize: bool = False, **kwargs: Any) -> Bundle:
    """Export a run to a bundle folder (model.onnx + bundle.json) checked against PyTorch, and
    return the loaded Bundle; see `fingerspell.export.onnx.export_run` (its lines are printed
    unless echo=None). Raises RunNotFoundError, TrainingError and ExportError."""
    from fingerspell.export.onnx import export_run

    return Bundle.load(export_run(_run_path(run), out=out, quantize=quantize, **kwargs))


def load_predictor(bundle: str | Path | Bundle | None = None, **options: Any) -> Predictor:
    """A Predictor for a bundle (None: the bundled default model); see
    `fingerspell.infer.predictor.Predictor`. Raises BundleError."""
    return Predictor(bundle, **options)


def predict(source: Any, bundle: str | Path | Bundle | None = None, **options: Any) -> Iterator[Prediction]:
    """Stream Predictions for an image, folder, glob, video, camera index or array with a
    bundle (None: the bundled default model). Raises BundleError, SourceError."""
    with load_predictor(bundle, **options) as predictor:
        yield from predictor.predict(source)


def load_run_model(run: str | Path | Run, which: str = "best") -> tuple[Any, RunInfo]:
    """(torch model in eval mode, RunInfo) of a trained run. Raises RunNotFoundError, TrainingError."""
    from fingerspell.train.checkpoint import load_run_model as _load

    return _load(_run_path(run), which)


def preview_augmentations(data: str, config: str | Path | None = None, out: str | Path = "augment-preview.png",
                          **kwargs: Any) -> Path:
    """Write a grid PNG of originals and augmented copies. Raises DatasetNotFoundError,
    ConfigError, UnknownModelError."""
    from fingerspell.train.preview import preview_augmentations as _preview

    return _preview(data, config, out, **kwargs)


__all__ = ["Bundle", "Dataset", "Prediction", "Predictor", "Report", "Run", "RunInfo", "SplitSummary", "evaluate_model", "export_model", "import_dataset", "list_models", "load_predictor",
           "load_run_model", "predict", "preview_augmentations", "resume", "split_dataset", "train_model", "train_recipe"]
