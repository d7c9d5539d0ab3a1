"""Run folders: naming (the Datature habit: model, data, epochs, augmentations) and the Run record."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fingerspell import home
from fingerspell.train.config import TrainConfig


def run_base_name(model: str, data: str, config: TrainConfig) -> str:
    """`<model>_<data>_e<epochs>_<augs>`, augs the short names joined by '+', or `noaug`."""
    augs = "+".join(config.augment_names()) or "noaug"
    return f"{model}_{data}_e{config.epochs}_{augs}"


def create_run_dir(model: str, data: str, config: TrainConfig, root: Path | None = None) -> Path:
    """Make a fresh run folder, adding -2, -3, ... when the name is taken."""
    return unique_run_dir(run_base_name(model, data, config), root)


def unique_run_dir(base: str, root: Path | None = None) -> Path:
    """Make a fresh run folder `base` under `root` (default FINGERSPELL_HOME/runs), adding
    -2, -3, ... when the name is taken."""
    root = root or home.runs_dir()
    n = 1
    while True:
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1


@dataclass
class Run:
    """A training run on disk: where it is, what it trained, and how it went."""

    path: Path
    name: str
    model: str
    data: str
    labels: list[str]
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)
    epochs_done: int = 0
    stopped_early: bool = False

    @property
    def best_val_acc(self) -> float | None:
        return self.best.get("val_acc")

    @classmethod
    def load(cls, run: str | Path) -> "Run":
        """Read a run folder (a path or a name under FINGERSPELL_HOME/runs). Raises RunNotFoundError."""
        from fingerspell.train.checkpoint import read_run_config, resolve_run

        path = resolve_run(run)
        cfg = read_run_config(path)
        last = _read_json(path / "last.json")
        best = _read_json(path / "best.json")
        return cls(path=path, name=path.name, model=cfg["model"], data=cfg["data"], labels=cfg["labels"], config=cfg["config"],
                   history=last.get("history", []), best=best.get("metrics", {}), epochs_done=int(last.get("epoch", 0)),
                   stopped_early=bool(last.get("stopped_early", False)))

    def __str__(self) -> str:
        return str(self.path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
