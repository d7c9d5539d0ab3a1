"""How still images are recognised with a bundle: bundle.json "still" (optional).

    "still": {"threshold": 0.3, "escalate_below": 0.9, "temperature_fast": 0.9,
              "temperature_full": 0.7, "fitted_on": "...", ...}

- `temperature_fast`: probabilities of the fast path (one robust detection, no landmark
  refinement, no test-time views) are softmax(logits / temperature_fast);
- `temperature_full`: the full path (refined landmarks + the bundle's test-time views) averages
  softmax(logits / temperature_full) over every view that finds the hand;
- `escalate_below`: the cascade (the default for still images) answers from the fast path and
  runs the full path only when the fast path's top probability is under this bar;
- `threshold`: the smallest calibrated probability reported as a letter when the caller gives no
  `--conf`.

All four are fitted on out-of-fold predictions of unseen-signer folds
(`bench/fit_still.py`, `evaluate.still_fit`); other keys (how they were chosen, the measured
figures) are kept as they are. A bundle without the key keeps the behaviour from before it:
the calibration temperature for both paths, threshold 0.5, and every uncertain image (top
probability under 1) escalated, i.e. the full path for every image with a hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fingerspell.errors import BundleError

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class StillParams:
    """Still-image settings of a bundle (see the module docstring)."""

    threshold: float = DEFAULT_THRESHOLD
    escalate_below: float = 1.0
    temperature_fast: float = 1.0
    temperature_full: float = 1.0
    fitted: bool = False  # False: defaults, the bundle has no "still" key
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str, temperature: float = 1.0) -> "StillParams":
        """Parse bundle.json "still" (None -> defaults with the bundle's calibration
        `temperature`). Raises BundleError naming the bad key."""
        if data is None:
            return cls(temperature_fast=temperature, temperature_full=temperature)
        if not isinstance(data, dict):
            raise BundleError(f"{where}: 'still' must be an object")
        values = {}
        for key, low, high in (("threshold", 0.0, 1.0), ("escalate_below", 0.0, 1.0),
                               ("temperature_fast", 0.05, 20.0), ("temperature_full", 0.05, 20.0)):
            value = data.get(key)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and low <= value <= high):
                raise BundleError(f"{where}: 'still.{key}' must be a number between {low:g} and {high:g}")
            values[key] = float(value)
        known = {"threshold", "escalate_below", "temperature_fast", "temperature_full"}
        return cls(**values, fitted=True, extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "escalate_below": self.escalate_below,
                "temperature_fast": self.temperature_fast, "temperature_full": self.temperature_full, **self.extra}
