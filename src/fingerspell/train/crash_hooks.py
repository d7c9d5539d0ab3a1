"""Crash simulators for the tests, set through environment variables, never through the
training config a user writes:

- FINGERSPELL_TEST_KILL_AFTER_BATCHES=N: SIGKILL the training process after N batches (the
  resume tests prove a killed run continues to the same weights);
- FINGERSPELL_TEST_INF_LOSS_AT_BATCH=N: make the loss infinite at batch N (1-based, counted
  over the run), as a too-high learning rate would.

`resume()` switches both off, so a resumed run is never killed again by the same hook.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from fingerspell.errors import ConfigError

KILL_AFTER_BATCHES = "FINGERSPELL_TEST_KILL_AFTER_BATCHES"
INF_LOSS_AT_BATCH = "FINGERSPELL_TEST_INF_LOSS_AT_BATCH"


@dataclass(frozen=True)
class CrashHooks:
    """0 = off."""

    kill_after_batches: int = 0
    inf_loss_at_batch: int = 0

    @classmethod
    def from_environment(cls) -> "CrashHooks":
        """The hooks the environment asks for. Raises ConfigError for a value that is not a
        whole number >= 0."""
        return cls(kill_after_batches=_read(KILL_AFTER_BATCHES), inf_loss_at_batch=_read(INF_LOSS_AT_BATCH))


def _read(name: str) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"environment variable {name}={text!r}: expected a whole number of batches") from None
    if value < 0:
        raise ConfigError(f"environment variable {name}={text!r}: expected 0 or more")
    return value
