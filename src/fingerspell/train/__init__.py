"""Training: `train(data, model, config=None, **overrides) -> Run`, `resume(run) -> Run`.

The package itself is callable, `fingerspell.train(...)` == `fingerspell.train.train(...)`:
the public API names a function `fingerspell.train`, and once this subpackage is imported
Python binds the *module* to that attribute, which would otherwise shadow the function.
Nothing heavy is imported here; torch loads when training starts.
"""
from __future__ import annotations

import sys
import types
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


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from fingerspell.train.loop import train

        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
