"""`spawn_train`: DDP training in `nprocs` local processes (torch.multiprocessing, spawn).

Each process runs the same `train(...)` into one run folder made here, in the parent, so bad
settings fail before anything starts. See train/ddp.py for the process-group primitives.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(rank: int, nprocs: int, port: int, data: str, model: str, config: Any, overrides: dict[str, Any], run_dir: str, home: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(nprocs),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "FINGERSPELL_HOME": home})
    from fingerspell.train.loop import train

    train(data, model, config, _run_dir=Path(run_dir), **overrides)


def spawn_train(nprocs: int, data: str, model: str, config: str | Path | None = None, **overrides: Any) -> Any:
    """Train with `nprocs` local processes under DDP (gloo on CPU). Returns the Run.

    Raises ConfigError / DatasetNotFoundError before starting anything, and TrainingError if a
    process fails."""
    import torch.multiprocessing as mp

    from fingerspell import home as fs_home
    from fingerspell.data import Dataset
    from fingerspell.errors import TrainingError
    from fingerspell.models import get_model_spec
    from fingerspell.train.config import load_config
    from fingerspell.train.run import Run, create_run_dir

    cfg = load_config(config, overrides)  # fail fast, in the parent, on bad keys
    get_model_spec(model)
    Dataset.load(data).close()
    run_dir = create_run_dir(model, data, cfg)
    port = _free_port()
    try:
        mp.start_processes(_worker, args=(nprocs, port, data, model, config, overrides, str(run_dir), str(fs_home.home())),
                           nprocs=nprocs, join=True, start_method="spawn")
    except mp.ProcessRaisedException as exc:
        raise TrainingError(f"a DDP process failed: {str(exc).strip().splitlines()[-1]}") from None
    return Run.load(run_dir)
