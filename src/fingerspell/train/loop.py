"""The training loop: `train(data, model, ...)` and `resume(run)`.

Determinism: the model is initialised from `seed`; every epoch reseeds torch (dropout), the
data order (a generator seeded by seed and epoch) and the augmentations (per sample, by seed,
epoch and position). Checkpoints are written at the end of each epoch, so a run killed in
epoch k resumes from the end of epoch k-1 and replays epoch k exactly: the final weights equal
those of an uninterrupted run with the same seed (same device and thread count).
"""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic
from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError
from fingerspell.train import ddp
from fingerspell.train.checkpoint import load_checkpoint, read_run_config, resolve_run, rng_state, save_checkpoint, set_rng_state
from fingerspell.train.config import TrainConfig, config_from_dict, load_config
from fingerspell.train.run import Run, create_run_dir

# ---- the log -------------------------------------------------------------------------------------


class RunLog:
    """Lines to train.log (appended, flushed) and to stderr, without breaking progress bars."""

    def __init__(self, path: Path | None, echo: bool = True):
        self.path = path
        self.echo = echo

    def __call__(self, message: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(f"{stamp} {message}\n")
        if self.echo:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stderr)


# ---- splits ------------------------------------------------------------------------------------------


def _stratified_pick(samples: list[Sample], fraction: float | None, count: int | None, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Split samples into (picked, rest), per class, deterministically by seed. Either a
    fraction of each class or `count` samples in all (proportional per class)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Sample]] = {}
    for s in samples:
        by_label.setdefault(s.label, []).append(s)
    total = len(samples)
    picked_ids: set[int] = set()
    for label in sorted(by_label):
        group = by_label[label]
        order = rng.permutation(len(group))
        if fraction is not None:
            k = int(round(len(group) * fraction))
            k = max(1, k) if len(group) >= 2 else 0  # every class seen in val, none emptied from train
        else:
            k = max(1, int(round(len(group) * count / total)))
        picked_ids.update(group[i].id for i in order[:k])
    picked = [s for s in samples if s.id in picked_ids]
    rest = [s for s in samples if s.id not in picked_ids]
    return picked, rest


@dataclass
class Splits:
    train: list[Sample]
    val: list[Sample]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"train": len(self.train), "val": len(self.val), "notes": self.notes}


def resolve_splits(ds: Dataset, cfg: TrainConfig) -> Splits:
    """Training and validation samples: the dataset's splits, or a val split carved from train
    in memory (stratified, by seed) when the dataset has none. Raises TrainingError."""
    notes: list[str] = []
    present = ds.splits()
    if "train" in present:
        train = list(ds.samples(split="train"))
    elif not present:
        train = list(ds.samples())
        notes.append(f"dataset {ds.name!r} has no splits: training on all samples, no test split held out "
                     f"(run `fingerspell data split {ds.name}` to keep one)")
    else:
        raise TrainingError(f"dataset {ds.name!r} has splits {', '.join(present)} but no 'train' split")
    if not train:
        raise TrainingError(f"dataset {ds.name!r} has no training samples")
    if "val" in present and ds.count("val") > 0:
        val = list(ds.samples(split="val"))
    else:
        val, train = _stratified_pick(train, cfg.val_fraction, None, cfg.seed)
        notes.append(f"no val split in {ds.name!r}: carved {len(val)} samples ({cfg.val_fraction:.0%} per class, "
                     f"seed {cfg.seed}) from train, in memory")
    if cfg.max_train_samples and len(train) > cfg.max_train_samples:
        train, _ = _stratified_pick(train, None, cfg.max_train_samples, cfg.seed)
        notes.append(f"training on a stratified subset of {len(train)} samples (max_train_samples)")
    if cfg.max_val_samples and len(val) > cfg.max_val_samples:
        val, _ = _stratified_pick(val, None, cfg.max_val_samples, cfg.seed + 1)
        notes.append(f"validating on a stratified subset of {len(val)} samples (max_val_samples)")
    if not val:
        raise TrainingError(f"dataset {ds.name!r}: no validation samples (too few samples per class to carve a val split)")
    return Splits(train, val, notes)


def training_hand_settings(ds: Dataset, spec: Any, train: list[Sample]) -> dict[str, Any] | None:
    """The hand-detector settings the training landmarks were extracted with (recorded in
    config.json as "hands", so `export` can give the bundle's predictor the same detector);
    None for image models and for landmarks imported with their dataset."""
    if spec.input_kind not in ("landmarks", "fused"):
        return None
    from fingerspell.hands.extract import extraction_settings

    return extraction_settings(ds, [s.id for s in train])


# ---- pieces --------------------------------------------------------------------------------------


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


def epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, 7]).generate_state(1)[0])


def _loader(dataset: Any, cfg: TrainConfig, epoch: int, ctx: ddp.DistContext, training: bool) -> Any:
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


def plot_curves(history: list[dict[str, Any]], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, train and val, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], "o-", label="val")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * h["train_acc"] for h in history], "o-", label="train")
    ax_acc.plot(epochs, [100 * h["val_acc"] for h in history], "o-", label="val")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=100)
    plt.close(fig)


# ---- train / resume ---------------------------------------------------------------------------------


def train(data: str | Dataset, model: str, config: str | Path | TrainConfig | None = None, *,
          _run_dir: Path | None = None, **overrides: Any) -> Run:
    """Train `model` on dataset `data` and return the Run (its folder under
    FINGERSPELL_HOME/runs holds checkpoints, curves, TensorBoard events and train.log).

    `config` is a YAML file with keys from train/defaults.yaml (or a TrainConfig);
    `overrides` are more keys, e.g. `epochs=5`, or nested as `**{"augment.hflip": 0.5}`.
    Raises ConfigError (unknown key, with the closest one), UnknownModelError,
    DatasetNotFoundError, and TrainingError (NaN loss, no samples, ...)."""
    from fingerspell.models import get_model_spec

    cfg = config if isinstance(config, TrainConfig) else load_config(config, overrides)
    if isinstance(config, TrainConfig) and overrides:
        from fingerspell.train.config import apply

        cfg = apply(cfg, overrides, "arguments")
    spec = get_model_spec(model)
    ds = data if isinstance(data, Dataset) else Dataset.load(data)
    ctx = ddp.setup(cfg.device)
    try:
        if ctx.is_main:
            run_dir = _run_dir or create_run_dir(model, ds.name, cfg)
        else:
            run_dir = None
        run_dir = Path(ddp.broadcast_object(ctx, str(run_dir)))
        return _fit(run_dir, ds, model, spec, cfg, ctx, resume_from=None)
    finally:
        ddp.teardown(ctx)
        if not isinstance(data, Dataset):
            ds.close()


def resume(run: str | Path) -> Run:
    """Continue a run from its `last` checkpoint with its saved config; the result equals an
    uninterrupted run with the same seed. Raises RunNotFoundError and TrainingError."""
    from fingerspell.models import get_model_spec

    run_dir = resolve_run(run)
    saved = read_run_config(run_dir)
    cfg_dict = dict(saved["config"])
    # the crash simulators must not fire again in the resumed run
    cfg_dict["debug_kill_after_batches"] = 0
    cfg_dict["debug_inf_loss_at_batch"] = 0
    cfg = config_from_dict(cfg_dict)
    last = run_dir / "last.safetensors"
    if not last.exists():
        raise TrainingError(f"{run_dir}: no last checkpoint to resume from (the first epoch never finished); start a new run")
    spec = get_model_spec(saved["model"])
    ds = Dataset.load(saved["data"])
    ctx = ddp.setup(cfg.device)
    try:
        return _fit(run_dir, ds, saved["model"], spec, cfg, ctx, resume_from=last)
    finally:
        ddp.teardown(ctx)
        ds.close()


def _fit(run_dir: Path, ds: Dataset, model_name: str, spec: Any, cfg: TrainConfig, ctx: ddp.DistContext,
         resume_from: Path | None) -> Run:
    import torch

    from fingerspell.models import create_model
    from fingerspell.train.checkpoint import unwrap
    from fingerspell.train.inputs import build_inputs

    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    show = cfg.progress and ctx.is_main
    log = RunLog(run_dir / "train.log" if ctx.is_main else None, echo=ctx.is_main)
    device = ctx.device
    use_amp = device.startswith("cuda") and cfg.amp in ("auto", "true")
    if cfg.amp == "true" and not device.startswith("cuda"):
        log("amp=true ignored: mixed precision is used on CUDA only; training in float32 on the CPU")
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if use_amp else None

    splits = resolve_splits(ds, cfg)
    labels = ds.classes
    model_args: dict[str, Any] = {}
    if resume_from is None and ctx.is_main:
        run_config = {
            "name": run_dir.name, "data": ds.name, "model": model_name, "labels": labels,
            "spec": spec.to_dict(), "model_args": model_args, "config": cfg.to_dict(), "splits": splits.describe(),
            "world_size": ctx.world_size, "device": device, "amp": str(amp_dtype).replace("torch.", "") if amp_dtype else "off",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
        }
        hands = training_hand_settings(ds, spec, splits.train)
        if hands is not None:
            run_config["hands"] = hands
        atomic.write_json(run_dir / "config.json", run_config)
    if resume_from is None:
        log(f"run {run_dir.name}: {model_name} on {ds.name} ({len(labels)} classes), {cfg.epochs} epochs, "
            f"device {device}{' x' + str(ctx.world_size) if ctx.enabled else ''}, amp {'on' if amp_dtype else 'off'}")
    for note in splits.notes:
        log(note)
    log(f"train {len(splits.train)} samples, val {len(splits.val)} samples")

    train_set = build_inputs(ds, splits.train, spec, cfg, training=True)
    val_set = build_inputs(ds, splits.val, spec, cfg, training=False)

    torch.manual_seed(cfg.seed)
    net = create_model(model_name, len(labels), **model_args).to(device)
    if ctx.enabled:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(net, device_ids=[ctx.local_rank] if device.startswith("cuda") else None)
    optimizer = build_optimizer(net, cfg)
    steps_per_epoch = len(_loader(train_set, cfg, 1, ctx, training=True))
    if steps_per_epoch == 0:
        raise TrainingError(f"no training batches: {len(splits.train)} samples for batch_size {cfg.batch_size}")
    scheduler = build_scheduler(optimizer, cfg, steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    weights = class_weights(list(getattr(train_set, "labels", [])), len(labels), cfg.class_weights)
    criterion = torch.nn.CrossEntropyLoss(weight=weights.to(device) if weights is not None else None, label_smoothing=cfg.label_smoothing)
    if weights is not None:
        log("class weights (balanced): " + ", ".join(f"{l}={w:.2f}" for l, w in zip(labels, weights.tolist())))

    history: list[dict[str, Any]] = []
    start_epoch, best_score, bad_epochs = 1, None, 0
    if resume_from is not None:
        ckpt = load_checkpoint(resume_from)
        unwrap(net).load_state_dict(ckpt.model_state)
        optimizer.load_state_dict(ckpt.part("optimizer"))
        scheduler.load_state_dict(ckpt.part("scheduler") or {})
        if scaler is not None and ckpt.part("scaler"):
            scaler.load_state_dict(ckpt.part("scaler"))
        if ckpt.part("rng"):
            set_rng_state(ckpt.part("rng"))
        history = list(ckpt.state.get("history", []))
        best_score = ckpt.state.get("best_score")
        if not isinstance(best_score, list):  # checkpoints from before the tie-break kept a bare number
            best_score = None
        bad_epochs = int(ckpt.state.get("bad_epochs", 0))
        start_epoch = int(ckpt.state["epoch"]) + 1
        if ckpt.state.get("stopped_early") or start_epoch > cfg.epochs:
            log(f"run {run_dir.name} is complete ({start_epoch - 1} epochs{', stopped early' if ckpt.state.get('stopped_early') else ''}); nothing to resume")
            return Run.load(run_dir)
        log(f"resuming {run_dir.name} at epoch {start_epoch} of {cfg.epochs} from {resume_from.name}")

    writer = None
    if ctx.is_main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(run_dir))

    batches_run = 0
    stopped_early = False
    try:
        for epoch in range(start_epoch, cfg.epochs + 1):
            torch.manual_seed(epoch_seed(cfg.seed, epoch) ^ ctx.rank)  # dropout masks replay on resume
            loader = _loader(train_set, cfg, epoch, ctx, training=True)
            net.train()
            started = time.perf_counter()
            loss_sum, correct, seen = 0.0, 0, 0
            bar = None
            if show:
                from tqdm import tqdm

                bar = tqdm(total=len(loader), desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=True, file=sys.stderr, dynamic_ncols=True)
            for step, (x, y) in enumerate(loader, start=1):
                batches_run += 1
                if cfg.debug_kill_after_batches and batches_run >= cfg.debug_kill_after_batches:
                    # testing aid: die the way a killed process dies, with no chance to clean up
                    os.kill(os.getpid(), signal.SIGKILL)
                global_step = (epoch - 1) * steps_per_epoch + step
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = net(x)
                    loss = criterion(logits.float(), y)
                if cfg.debug_inf_loss_at_batch and global_step == cfg.debug_inf_loss_at_batch:
                    loss = loss * float("inf")  # testing aid: an overflow as a too-high lr would cause
                finite = bool(torch.isfinite(loss))
                if ctx.enabled:
                    finite = ddp.all_reduce_sum(ctx, [0.0 if finite else 1.0])[0] == 0
                if not finite:
                    _raise_nan(run_dir, epoch, step, float(loss.detach()), optimizer, log)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                scheduler.step()
                batch_loss = float(loss.detach())
                loss_sum += batch_loss * len(y)
                correct += int((logits.detach().argmax(1) == y).sum())
                seen += len(y)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}", lr=f"{optimizer.param_groups[0]['lr']:.2e}", refresh=False)
            if bar is not None:
                bar.close()
            loss_sum, correct, seen = ddp.all_reduce_sum(ctx, [loss_sum, float(correct), float(seen)])
            train_time = time.perf_counter() - started
            val_loader = _loader(val_set, cfg, epoch, ctx, training=False)
            val = evaluate_loader(unwrap(net), val_loader, device, amp_dtype, criterion)
            metrics = {
                "epoch": epoch, "train_loss": loss_sum / max(1, seen), "train_acc": correct / max(1, seen),
                "val_loss": val["loss"], "val_acc": val["acc"], "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - started, 2), "train_images_per_s": round(seen / max(train_time, 1e-9), 1),
            }
            history.append(metrics)
            score = _selection_key(metrics, cfg.monitor)
            improved = best_score is None or _better(score, list(best_score))
            if improved:
                best_score, bad_epochs = score, 0
            else:
                bad_epochs += 1
            stopped_early = bool(cfg.early_stopping and bad_epochs >= cfg.early_stopping and epoch < cfg.epochs)
            log(f"epoch {epoch}/{cfg.epochs}: train loss {metrics['train_loss']:.4f} acc {metrics['train_acc']:.2%} | "
                f"val loss {metrics['val_loss']:.4f} acc {metrics['val_acc']:.2%} | lr {metrics['lr']:.2e} | "
                f"{metrics['seconds']:.1f}s{' | best' if improved else ''}")
            if ctx.is_main:
                info = {"epoch": epoch, "metrics": metrics, "history": history, "best_score": best_score, "monitor": cfg.monitor,
                        "bad_epochs": bad_epochs, "stopped_early": stopped_early, "model": model_name, "labels": labels,
                        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
                save_checkpoint(run_dir, "last", model=net, info=info, optimizer=optimizer, scheduler=scheduler, scaler=scaler, rng=rng_state())
                if improved:
                    save_checkpoint(run_dir, "best", model=net, info=info)
                for key in ("train_loss", "val_loss"):
                    writer.add_scalar(f"loss/{key[:-5]}", metrics[key], epoch)
                for key in ("train_acc", "val_acc"):
                    writer.add_scalar(f"accuracy/{key[:-4]}", metrics[key], epoch)
                writer.add_scalar("lr", metrics["lr"], epoch)
                writer.flush()
                note = f" (train loss with label smoothing {cfg.label_smoothing:g} and augmentation; val loss plain)" if cfg.label_smoothing else ""
                plot_curves(history, run_dir / "curves.png", f"{run_dir.name}{note}")
            if stopped_early:
                log(f"early stopping: {cfg.monitor} has not improved for {bad_epochs} epochs")
                break
    finally:
        if writer is not None:
            writer.close()
    ddp.barrier(ctx)  # other ranks read the run folder only once rank 0 has finished writing it
    run = Run.load(run_dir)
    if run.best:
        log(f"done: best epoch {run.best['epoch']} with val acc {run.best['val_acc']:.2%}; run folder {run_dir}")
    return run


# A val loss must drop by more than this to count as better (float noise is not progress).
LOSS_MIN_DELTA = 1e-4


def _selection_key(metrics: dict[str, Any], monitor: str) -> list[float]:
    """What `best` is chosen by: val accuracy with val loss breaking ties (an easy val split
    sits at 100% for many epochs, and the first of them is rarely the best), or val loss."""
    if monitor == "val_acc":
        return [metrics["val_acc"], -metrics["val_loss"]]
    return [-metrics["val_loss"]]


def _better(key: list[float], best: list[float]) -> bool:
    if len(key) == 2:
        if key[0] != best[0]:
            return key[0] > best[0]
        return key[1] > best[1] + LOSS_MIN_DELTA
    return key[0] > best[0] + LOSS_MIN_DELTA


def _raise_nan(run_dir: Path, epoch: int, step: int, value: float, optimizer: Any, log: RunLog) -> None:
    last = run_dir / "last.json"
    if last.exists():
        import json

        kept_epoch = json.loads(last.read_text(encoding="utf-8")).get("epoch")
        kept = f"the last good checkpoint (end of epoch {kept_epoch}) is kept in {run_dir}"
    else:
        kept = f"no checkpoint was written yet (the first epoch had not finished); run folder {run_dir}"
    message = (f"loss became {value} at epoch {epoch}, batch {step} (lr {optimizer.param_groups[0]['lr']:.3g}): training stopped; "
               f"{kept}. Lower lr, or check the data for broken samples")
    log(message)
    raise TrainingError(message)
