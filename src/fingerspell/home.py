"""Where fingerspell keeps its state: dataset indexes, runs and models.

`FINGERSPELL_HOME` (default `~/.fingerspell`) holds:
  datasets/<name>.sqlite   one index per imported dataset
  runs/<run-name>/         training runs (checkpoints, curves, reports)
  models/                  exported bundles
"""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The fingerspell home folder, created on first use."""
    root = Path(os.environ.get("FINGERSPELL_HOME") or Path.home() / ".fingerspell").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def datasets_dir() -> Path:
    path = home() / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_bundle_dir() -> Path:
    """The trained default model shipped inside the package."""
    return Path(__file__).resolve().parent / "models" / "default"
