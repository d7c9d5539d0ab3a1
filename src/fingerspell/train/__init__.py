"""Training: `train(data, model, config=None, **overrides) -> Run`, `resume(run) -> Run`
(`fingerspell.train.train(...)`; the top-level API calls it `fingerspell.train_model`).

Nothing heavy is imported here; torch loads when training starts.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Run", "TrainConfig", "load_config", "load_run_model", "resume", "train"]

_LAZY = {
    "train": ("fingerspell.train.loop", "train"),
    "resume": ("fingerspell.train.loop", "resume"),
    "Run": ("fingerspell.train.run", "Run"),
    "TrainConfig": ("fingerspell.train.config", "TrainConfig"),
    "load_config": ("fingerspell.train.config", "load_config"),
    "load_run_model": ("fingerspell.train.checkpoint", "load_run_model"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'fingerspell.train' has no attribute {name!r}")
