"""The optimiser, the learning-rate schedule (stepped once per batch) and class weights of a
training run, built from its TrainConfig."""
from __future__ import annotations

from collections import Counter
from typing import Any

from fingerspell.train.config import TrainConfig


def build_optimizer(model: Any, cfg: TrainConfig) -> Any:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay)


def build_scheduler(optimizer: Any, cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """A scheduler stepped once per batch (so all of them resume the same way)."""
    import torch

    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, cfg.step_size * steps_per_epoch), gamma=cfg.gamma)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=cfg.lr * 1e-3)
    if cfg.schedule == "onecycle" and total >= 4:
        # OneCycleLR divides by the warm-up length in steps: keep at least two warm-up steps
        pct = min(max(cfg.warmup_pct, 2.0 / total), 0.5)
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total, pct_start=pct,
                                                   cycle_momentum=cfg.optimizer == "sgd")
    if cfg.schedule == "onecycle":  # a run of under four steps has no room for a cycle
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=cfg.lr * 1e-3)
    return _ConstantLR(optimizer)


class _ConstantLR:
    """`schedule: none`: a no-op with the scheduler interface (LambdaLR would hold a lambda)."""

    def __init__(self, optimizer: Any):
        self.optimizer = optimizer

    def step(self) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]


def class_weights(labels: list[int], num_classes: int, mode: str) -> Any:
    """Inverse-frequency weights (`balanced`, as scikit-learn defines it) or None."""
    if mode != "balanced":
        return None
    import torch

    counts = Counter(labels)
    total = len(labels)
    present = len(counts)
    return torch.tensor([total / (present * counts[c]) if counts.get(c) else 0.0 for c in range(num_classes)], dtype=torch.float32)
