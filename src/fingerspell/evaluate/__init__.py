"""Evaluation: `evaluate(run, data, split="test", out=None) -> Report` (`report.py`; the
top-level API calls it `fingerspell.evaluate_model`), and the accuracy protocols of
`fingerspell bench accuracy` (`protocols.py` and the modules it names).

torch loads only when an evaluation runs.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Report", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from fingerspell.evaluate import report

        return getattr(report, name)
    raise AttributeError(f"module 'fingerspell.evaluate' has no attribute {name!r}")
