"""Multi-process training with torch DistributedDataParallel.

Two ways in:
- `torchrun --nproc_per_node=N -m fingerspell train --data D --model M ...`: torchrun sets
  RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT and every process runs the same
  `train(...)`; `setup()` notices and joins the group.
- `fingerspell.train.spawn.spawn_train(nprocs, data, model, ...)` starts the processes itself
  (torch.multiprocessing, spawn), on one machine; it is what the tests use on CPU with gloo.

This module holds only the process-group primitives the training loop calls; it imports
nothing of the loop (spawn.py, which starts loops, sits above both).

NCCL is used when every process has a GPU, gloo otherwise. Rank 0 alone writes the run
folder; every rank validates on the full val split so that early-stopping decisions agree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
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
