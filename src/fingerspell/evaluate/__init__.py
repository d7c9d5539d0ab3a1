"""Evaluation: `evaluate(run, data, split="test", out=None) -> Report`.

The package is callable, `fingerspell.evaluate(...)` == `fingerspell.evaluate.evaluate(...)`,
for the same reason as `fingerspell.train` (the API function and this subpackage share a
name). torch loads only when an evaluation runs.
"""
from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["Report", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from fingerspell.evaluate import report

        return getattr(report, name)
    raise AttributeError(f"module 'fingerspell.evaluate' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from fingerspell.api import evaluate

        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
