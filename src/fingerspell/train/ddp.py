"""Multi-process training with torch DistributedDataParallel.

Two ways in:
- `torchrun --nproc_per_node=N -m fingerspell train --data D --model M ...`: torchrun sets
  RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT and every process runs the same
  `train(...)`; `setup()` notices and joins the group.
- `spawn_train(nprocs, data, model, ...)` starts the processes itself (torch.multiprocessing,
  spawn), on one machine; it is what the tests use on CPU with gloo.

NCCL is used when every process has a GPU, gloo otherwise. Rank 0 alone writes the run
folder; every rank validates on the full val split so that early-stopping decisions agree.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class DistContext:
    """Where this process stands: rank, world size, device; `enabled` when world > 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"
    enabled: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(requested: str, local_rank: int = 0) -> str:
    import torch

    from fingerspell.errors import ConfigError

    if requested == "auto":
        return f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={requested} asked for, but torch sees no CUDA GPU here; use device=cpu or auto")
    if requested not in ("cpu",) and not requested.startswith("cuda"):
        raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {requested!r}")
    return requested


def setup(requested_device: str) -> DistContext:
    """Join the process group when launched by torchrun / spawn_train, else a single process."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=resolve_device(requested_device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = resolve_device(requested_device, local_rank)
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo", rank=rank, world_size=world)
    return DistContext(rank=rank, world_size=world, local_rank=local_rank, device=device, enabled=True)


def broadcast_object(ctx: DistContext, value: Any) -> Any:
    """Rank 0's `value` on every rank."""
    if not ctx.enabled:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_reduce_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Element-wise sum of `values` over all ranks (float64)."""
    if not ctx.enabled:
        return values
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64, device=ctx.device if ctx.device.startswith("cuda") else "cpu")
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (e.g. until rank 0 has written the last checkpoint)."""
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def teardown(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


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
