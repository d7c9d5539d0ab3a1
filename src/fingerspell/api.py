"""The Python API: the whole lifecycle in a few calls, each also a `fingerspell` command.

    import fingerspell as fs
    ds = fs.import_dataset("../shared/datasets/sign-mnist", name="sign-mnist")  # or fs.Dataset.load("sign-mnist")
    run = fs.train("sign-mnist", "letters-cnn", epochs=12)
    report = fs.evaluate(run, "sign-mnist", split="test")
    print(report.top1, report.out)

Everything heavy (torch, albumentations) is imported inside the functions, so
`import fingerspell` stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fingerspell.data.index import Dataset


def import_dataset(path: str | Path, format: str = "auto", name: str | None = None, **kwargs: Any) -> Dataset:
    """Import a dataset folder or file; see `fingerspell.data.importer.import_dataset`."""
    from fingerspell.data.importer import import_dataset as _import

    return _import(path, format=format, name=name, **kwargs)


def split_dataset(dataset: Dataset | str, by: str = "random", val: float = 0.15, test: float = 0.15, seed: int = 0, **kwargs: Any) -> Any:
    """Assign train/val/test; see `fingerspell.data.split.split_dataset`."""
    from fingerspell.data.split import split_dataset as _split

    ds = Dataset.load(dataset) if isinstance(dataset, str) else dataset
    return _split(ds, by=by, val=val, test=test, seed=seed, **kwargs)


def list_models() -> list[str]:
    """Names of the registered models."""
    from fingerspell.models import list_models as _list

    return _list()


def train(data: str | Dataset, model: str, config: str | Path | None = None, **overrides: Any) -> Any:
    """Train `model` on `data`; returns the Run. See `fingerspell.train.loop.train`."""
    from fingerspell.train.loop import train as _train

    return _train(data, model, config, **overrides)


def resume(run: str | Path | Any) -> Any:
    """Continue a killed run from its last checkpoint; returns the Run."""
    from fingerspell.train.loop import resume as _resume

    return _resume(getattr(run, "path", run))


def evaluate(run: str | Path | Any, data: str, split: str | None = "test", out: str | Path | None = None, **kwargs: Any) -> Any:
    """Evaluate a run on a split and write report.html/json + PNGs; returns the Report."""
    from fingerspell.evaluate.report import evaluate as _evaluate

    return _evaluate(getattr(run, "path", run), data, split, out, **kwargs)


def load_run_model(run: str | Path | Any, which: str = "best") -> tuple[Any, Any]:
    """(torch model in eval mode, RunInfo) of a trained run."""
    from fingerspell.train.checkpoint import load_run_model as _load

    return _load(getattr(run, "path", run), which)


def preview_augmentations(data: str, config: str | Path | None = None, out: str | Path = "augment-preview.png", **kwargs: Any) -> Path:
    """Write a grid PNG of originals and augmented copies."""
    from fingerspell.train.preview import preview_augmentations as _preview

    return _preview(data, config, out, **kwargs)


__all__ = ["Dataset", "evaluate", "import_dataset", "list_models", "load_run_model", "preview_augmentations", "resume",
           "split_dataset", "train"]
