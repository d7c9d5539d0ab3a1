"""Checkpoints as safetensors + JSON, never pickle, written atomically.

`<which>.safetensors` holds every tensor: the model's state (`model.*`) and, for resuming,
the optimizer's and scheduler's tensors (`optimizer.*`, `scheduler.*`) and RNG states
(`rng.*`). Everything else (epoch, metrics, optimizer hyper-parameters, scheduler counters)
is JSON stored twice: in the safetensors header's metadata, which makes the one file
self-contained and consistent after a crash, and in `<which>.json` beside it for people.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic, home
from fingerspell.errors import RunNotFoundError, TrainingError

FORMAT_VERSION = 1


# ---- nested state <-> (tensors, JSON skeleton) -------------------------------------------------
def flatten_state(obj: Any, prefix: str, tensors: dict[str, Any]) -> Any:
    """Move every tensor of a nested dict/list/tuple into `tensors` under a dotted key and
    return the JSON-able rest, tensors replaced by {"__tensor__": key}."""
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[_key(k), flatten_state(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TrainingError(f"cannot store a {type(obj).__name__} in a checkpoint ({prefix})")


def _key(k: Any) -> Any:
    # optimizer state is keyed by int parameter index: keep ints as ints
    if isinstance(k, (int, str)):
        return k
    raise TrainingError(f"cannot store a {type(k).__name__} dict key in a checkpoint")


def unflatten_state(skeleton: Any, tensors: dict[str, Any]) -> Any:
    """Inverse of `flatten_state`."""
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {k: unflatten_state(v, tensors) for k, v in skeleton["__dict__"]}
        if "__tuple__" in skeleton:
            return tuple(unflatten_state(v, tensors) for v in skeleton["__tuple__"])
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


def rng_state() -> dict[str, Any]:
    """Torch, NumPy (legacy global) and Python RNG states as tensors + plain values."""
    import torch

    np_state = np.random.get_state()
    py_state = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]), float(np_state[4])),
        "python": (py_state[0], torch.tensor(py_state[1], dtype=torch.int64), py_state[2]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(v) for v in internal.tolist()), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


# ---- writing and reading ----------------------------------------------------------------------
def unwrap(model: Any) -> Any:
    """The bare model inside a DistributedDataParallel wrapper."""
    return getattr(model, "module", model)


def save_checkpoint(run_dir: Path, which: str, *, model: Any, info: dict[str, Any], optimizer: Any = None,
                    scheduler: Any = None, scaler: Any = None, rng: dict[str, Any] | None = None) -> Path:
    """Write `<which>.safetensors` then `<which>.json` atomically. `info` is JSON-able
    (epoch, metrics, history...). Returns the safetensors path."""
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    for k, v in unwrap(model).state_dict().items():
        tensors[f"model.{k}"] = v.detach().cpu().contiguous().clone()
    state: dict[str, Any] = {"format": FORMAT_VERSION, **info}
    if optimizer is not None:
        state["optimizer"] = flatten_state(optimizer.state_dict(), "optimizer", tensors)
    if scheduler is not None:
        state["scheduler"] = flatten_state(scheduler.state_dict(), "scheduler", tensors)
    if scaler is not None:
        state["scaler"] = flatten_state(scaler.state_dict(), "scaler", tensors)
    if rng is not None:
        state["rng"] = flatten_state(rng, "rng", tensors)
    text = json.dumps(state)
    path = atomic.write_bytes(Path(run_dir) / f"{which}.safetensors", save(tensors, metadata={"fingerspell": text}))
    readable = {k: v for k, v in state.items() if k not in ("optimizer", "scheduler", "scaler", "rng")}
    readable["resumable"] = optimizer is not None
    atomic.write_json(Path(run_dir) / f"{which}.json", readable)
    return path


@dataclass
class Checkpoint:
    """A loaded checkpoint: model weights, the JSON state, and the other tensors."""

    path: Path
    model_state: dict[str, Any]
    state: dict[str, Any]
    tensors: dict[str, Any] = field(repr=False, default_factory=dict)

    def part(self, name: str) -> Any:
        """The optimizer / scheduler / scaler / rng state, rebuilt, or None if not stored."""
        if name not in self.state:
            return None
        return unflatten_state(self.state[name], self.tensors)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`. Raises TrainingError naming the file."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise TrainingError(f"{path}: checkpoint missing")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        state = json.loads(meta.get("fingerspell", "{}"))
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise TrainingError(f"{path}: not a readable checkpoint ({exc})") from None
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return Checkpoint(path, model_state, state, tensors)


# ---- runs ------------------------------------------------------------------------------------
def resolve_run(run: str | Path) -> Path:
    """A run folder from a path or a run name under FINGERSPELL_HOME/runs.
    Raises RunNotFoundError listing the most recent runs."""
    candidate = Path(run)
    if (candidate / "config.json").is_file():
        return candidate
    named = home.runs_dir() / str(run)
    if (named / "config.json").is_file():
        return named
    runs = sorted((p for p in home.runs_dir().iterdir() if (p / "config.json").is_file()), key=lambda p: p.stat().st_mtime)
    known = ", ".join(p.name for p in runs[-8:]) or "none yet (run `fingerspell train`)"
    raise RunNotFoundError(f"no run {str(run)!r} (a folder with config.json); recent runs: {known}")


def read_run_config(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunNotFoundError(f"{run_dir / 'config.json'}: unreadable ({exc})") from None


@dataclass
class RunInfo:
    """What a trained run knows about itself: labels in output order, the model spec (as a
    dict), the resolved training config, and the loaded checkpoint's JSON (epoch, metrics)."""

    path: Path
    name: str
    model: str
    data: str
    labels: list[str]
    spec: dict[str, Any]
    config: dict[str, Any]
    checkpoint: dict[str, Any]
    which: str
    recipe: dict[str, Any] | None = None  # the recipe file's content for a `train --recipe` run

    def __getitem__(self, key: str) -> Any:  # run_info["labels"] works too
        return getattr(self, key)


def load_run_model(run: str | Path, which: str = "best") -> tuple[Any, RunInfo]:
    """The run's model in eval mode with the `best` (or `last`) weights, and its RunInfo.

    Raises RunNotFoundError for an unknown run and TrainingError for a missing checkpoint
    (a run killed before its first epoch ended has none)."""
    from fingerspell.models import create_model

    if which not in ("best", "last"):
        raise TrainingError(f"checkpoint must be 'best' or 'last', not {which!r}")
    run_dir = resolve_run(run)
    config = read_run_config(run_dir)
    path = run_dir / f"{which}.safetensors"
    if not path.exists():
        raise TrainingError(f"{path}: no {which} checkpoint yet (did the first epoch finish?)")
    ckpt = load_checkpoint(path)
    model = create_model(config["model"], len(config["labels"]), **config.get("model_args", {}))
    model.load_state_dict(ckpt.model_state)
    model.eval()
    readable = {k: v for k, v in ckpt.state.items() if k not in ("optimizer", "scheduler", "scaler", "rng")}
    info = RunInfo(path=run_dir, name=run_dir.name, model=config["model"], data=config["data"], labels=list(config["labels"]),
                   spec=config["spec"], config=config["config"], checkpoint=readable, which=which,
                   recipe=config.get("recipe"))
    return model, info
