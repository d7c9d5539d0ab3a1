"""The training entry points: `train(data, model, ...)` and `resume(run)`.

They resolve the config, the model spec, the dataset and the DDP context, and hand the run to
`Trainer` (train/trainer.py), whose small steps are the training loop. The pieces live in
modules of their own: `splits` (train/val samples), `optim` (optimiser, schedule, class
weights), `loaders` (seeded data loaders, validation pass), `run_log` (train.log, curves),
`crash_hooks` (the tests' crash simulators, from environment variables).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fingerspell.data.index import Dataset
from fingerspell.errors import TrainingError
from fingerspell.train import ddp
from fingerspell.train.checkpoint import read_run_config, resolve_run
from fingerspell.train.config import TrainConfig, config_from_dict, load_config
from fingerspell.train.crash_hooks import CrashHooks
from fingerspell.train.loaders import epoch_seed, evaluate_loader
from fingerspell.train.optim import build_optimizer, build_scheduler, class_weights
from fingerspell.train.run import Run, create_run_dir
from fingerspell.train.run_log import RunLog, plot_curves
from fingerspell.train.splits import Splits, resolve_splits
from fingerspell.train.trainer import Trainer, training_hand_settings

# Names callers import from here; each lives in the module of its job.
__all__ = [
    "RunLog", "Splits", "Trainer", "build_optimizer", "build_scheduler", "class_weights", "epoch_seed",
    "evaluate_loader", "plot_curves", "resolve_splits", "resume", "train", "training_hand_settings",
]


def train(data: str | Dataset, model: str, config: str | Path | TrainConfig | None = None, *,
          _run_dir: Path | None = None, **overrides: Any) -> Run:
    """Train `model` on dataset `data` and return the Run (its folder under
    FINGERSPELL_HOME/runs holds checkpoints, curves, TensorBoard events and train.log).

    `config` is a YAML file with keys from train/defaults.yaml (or a TrainConfig);
    `overrides` are more keys, e.g. `epochs=5`, or nested as `**{"augment.hflip": 0.5}`.
    Raises ConfigError (unknown key, with the closest one), UnknownModelError,
    DatasetNotFoundError, and TrainingError (NaN loss, no samples, ...)."""
    from fingerspell.models import get_model_spec

    cfg = config if isinstance(config, TrainConfig) else load_config(config, overrides)
    if isinstance(config, TrainConfig) and overrides:
        from fingerspell.train.config import apply

        cfg = apply(cfg, overrides, "arguments")
    spec = get_model_spec(model)
    ds = data if isinstance(data, Dataset) else Dataset.load(data)
    ctx = ddp.setup(cfg.device)
    try:
        if ctx.is_main:
            run_dir = _run_dir or create_run_dir(model, ds.name, cfg)
        else:
            run_dir = None
        run_dir = Path(ddp.broadcast_object(ctx, str(run_dir)))
        return Trainer(run_dir, ds, model, spec, cfg, ctx, hooks=CrashHooks.from_environment()).fit()
    finally:
        ddp.teardown(ctx)
        if not isinstance(data, Dataset):
            ds.close()


def resume(run: str | Path) -> Run:
    """Continue a run from its `last` checkpoint with its saved config; the result equals an
    uninterrupted run with the same seed. Raises RunNotFoundError and TrainingError."""
    from fingerspell.models import get_model_spec

    run_dir = resolve_run(run)
    saved = read_run_config(run_dir)
    cfg = config_from_dict(dict(saved["config"]))
    last = run_dir / "last.safetensors"
    if not last.exists():
        raise TrainingError(f"{run_dir}: no last checkpoint to resume from (the first epoch never finished); start a new run")
    spec = get_model_spec(saved["model"])
    ds = Dataset.load(saved["data"])
    ctx = ddp.setup(cfg.device)
    try:
        # the crash simulators (crash_hooks) must not fire again in the resumed run
        return Trainer(run_dir, ds, saved["model"], spec, cfg, ctx, resume_from=last).fit()
    finally:
        ddp.teardown(ctx)
        ds.close()
