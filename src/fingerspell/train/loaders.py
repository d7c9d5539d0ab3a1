"""Data loaders for a training run: seeded per epoch (so a resumed run replays the same order),
distributed under DDP, and the no-gradient validation pass."""
from __future__ import annotations

from typing import Any

import numpy as np

from fingerspell.train import ddp
from fingerspell.train.config import TrainConfig


def epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, 7]).generate_state(1)[0])


def make_loader(dataset: Any, cfg: TrainConfig, epoch: int, ctx: ddp.DistContext, training: bool) -> Any:
    import torch
    from torch.utils.data import DataLoader, RandomSampler, SequentialSampler
    from torch.utils.data.distributed import DistributedSampler

    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)
    if training and ctx.enabled:
        sampler: Any = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=cfg.seed, drop_last=True)
        sampler.set_epoch(epoch)
    elif training:
        generator = torch.Generator().manual_seed(epoch_seed(cfg.seed, epoch))
        sampler = RandomSampler(dataset, generator=generator)
    else:
        sampler = SequentialSampler(dataset)
    # A final batch of one breaks batch norm in train mode; dropping the remainder changes
    # only which few samples an epoch skips.
    drop_last = training and len(dataset) // max(1, ctx.world_size) > cfg.batch_size
    return DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers, drop_last=drop_last,
                      pin_memory=ctx.device.startswith("cuda"), persistent_workers=False,
                      worker_init_fn=_worker_init if cfg.workers else None)


def _worker_init(worker_id: int) -> None:
    import torch

    info = torch.utils.data.get_worker_info()
    reopen = getattr(info.dataset, "reopen", None)
    if reopen is not None:
        reopen()
    torch.set_num_threads(1)  # workers prepare samples; the main process does the maths


def evaluate_loader(model: Any, loader: Any, device: str, amp_dtype: Any, criterion: Any = None) -> dict[str, float]:
    """Mean loss and accuracy of `model` over `loader` (no gradients)."""
    import torch

    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = model(x)
            logits = logits.float()
            if criterion is not None:
                loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
    return {"loss": loss_sum / max(1, seen), "acc": correct / max(1, seen), "n": seen}
