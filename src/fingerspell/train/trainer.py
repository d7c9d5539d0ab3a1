"""`Trainer`: one training run, from the resolved config to the checkpoints, step by step.

    Trainer(run_dir, dataset, "letters-cnn", spec, config, ctx).fit() -> Run

`fit` reads as the recipe: set up the device, the data and the model, restore a checkpoint
when resuming, then per epoch train, validate, keep the best and write checkpoints, the
TensorBoard scalars and the curves; stop early when the monitored metric stalls.

Determinism: the model is initialised from `seed`; every epoch reseeds torch (dropout), the
data order (a generator seeded by seed and epoch) and the augmentations (per sample, by seed,
epoch and position). Checkpoints are written at the end of each epoch, so a run killed in
epoch k resumes from the end of epoch k-1 and replays epoch k exactly. The order of the steps
below is part of that promise (each one that draws random numbers draws them in this order).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fingerspell import atomic
from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError
from fingerspell.train import ddp
from fingerspell.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from fingerspell.train.config import TrainConfig
from fingerspell.train.crash_hooks import CrashHooks
from fingerspell.train.loaders import epoch_seed, evaluate_loader, make_loader
from fingerspell.train.optim import build_optimizer, build_scheduler, class_weights
from fingerspell.train.run import Run
from fingerspell.train.run_log import RunLog, plot_curves
from fingerspell.train.splits import Splits, resolve_splits

# A val loss must drop by more than this to count as better (float noise is not progress).
LOSS_MIN_DELTA = 1e-4


def selection_key(metrics: dict[str, Any], monitor: str) -> list[float]:
    """What `best` is chosen by: val accuracy with val loss breaking ties (an easy val split
    sits at 100% for many epochs, and the first of them is rarely the best), or val loss."""
    if monitor == "val_acc":
        return [metrics["val_acc"], -metrics["val_loss"]]
    return [-metrics["val_loss"]]


def is_better(key: list[float], best: list[float]) -> bool:
    """Whether a selection key beats the best so far (see `selection_key`)."""
    if len(key) == 2:
        if key[0] != best[0]:
            return key[0] > best[0]
        return key[1] > best[1] + LOSS_MIN_DELTA
    return key[0] > best[0] + LOSS_MIN_DELTA


def training_hand_settings(ds: Dataset, spec: Any, train: list[Sample]) -> dict[str, Any] | None:
    """The hand-detector settings the training landmarks were extracted with (recorded in
    config.json as "hands", so `export` can give the bundle's predictor the same detector);
    None for image models and for landmarks imported with their dataset."""
    if spec.input_kind not in ("landmarks", "fused"):
        return None
    from fingerspell.hands.extract import extraction_settings

    return extraction_settings(ds, [s.id for s in train])


class Trainer:
    """Trains `model_name` on `ds` into `run_dir`; `fit()` does it and returns the Run.

    resume_from: a `last.safetensors` to continue from (its epoch, optimiser, scheduler and
    RNG state). hooks: the tests' crash simulators (`crash_hooks`); off by default.
    Raises TrainingError (no samples, no batches, NaN/inf loss).
    """

    def __init__(self, run_dir: Path, ds: Dataset, model_name: str, spec: Any, cfg: TrainConfig,
                 ctx: ddp.DistContext, resume_from: Path | None = None, hooks: CrashHooks = CrashHooks()):
        self.run_dir = run_dir
        self.ds = ds
        self.model_name = model_name
        self.spec = spec
        self.cfg = cfg
        self.ctx = ctx
        self.resume_from = resume_from
        self.hooks = hooks
        self.log = RunLog(run_dir / "train.log" if ctx.is_main else None, echo=ctx.is_main)
        self.labels: list[str] = ds.classes
        self.history: list[dict[str, Any]] = []
        self.start_epoch = 1
        self.best_score: list[float] | None = None
        self.bad_epochs = 0
        self.batches_run = 0
        self.writer: Any = None

    # ---- the recipe -----------------------------------------------------------------------------
    def fit(self) -> Run:
        self._set_up_device()
        self._prepare_data()
        self._build_model()
        if self.resume_from is not None and self._restore():
            return Run.load(self.run_dir)  # the run had finished: nothing to do
        self._open_writer()
        try:
            for epoch in range(self.start_epoch, self.cfg.epochs + 1):
                if self._run_epoch(epoch):
                    break
        finally:
            if self.writer is not None:
                self.writer.close()
        return self._finish()

    # ---- set-up ---------------------------------------------------------------------------------
    def _set_up_device(self) -> None:
        import torch

        cfg = self.cfg
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        self.device = self.ctx.device
        use_amp = self.device.startswith("cuda") and cfg.amp in ("auto", "true")
        if cfg.amp == "true" and not self.device.startswith("cuda"):
            self.log("amp=true ignored: mixed precision is used on CUDA only; training in float32 on the CPU")
        self.amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if use_amp else None

    def _prepare_data(self) -> None:
        from fingerspell.train.inputs import build_inputs

        self.splits: Splits = resolve_splits(self.ds, self.cfg)
        self.model_args: dict[str, Any] = {}
        if self.resume_from is None and self.ctx.is_main:
            self._write_run_config()
        if self.resume_from is None:
            ctx = self.ctx
            self.log(f"run {self.run_dir.name}: {self.model_name} on {self.ds.name} ({len(self.labels)} classes), "
                     f"{self.cfg.epochs} epochs, device {self.device}{' x' + str(ctx.world_size) if ctx.enabled else ''}, "
                     f"amp {'on' if self.amp_dtype else 'off'}")
        for note in self.splits.notes:
            self.log(note)
        self.log(f"train {len(self.splits.train)} samples, val {len(self.splits.val)} samples")
        self.train_set = build_inputs(self.ds, self.splits.train, self.spec, self.cfg, training=True)
        self.val_set = build_inputs(self.ds, self.splits.val, self.spec, self.cfg, training=False)

    def _write_run_config(self) -> None:
        """config.json: everything needed to trace the run's numbers to its settings."""
        import torch

        amp = self.amp_dtype
        run_config = {
            "name": self.run_dir.name, "data": self.ds.name, "model": self.model_name, "labels": self.labels,
            "spec": self.spec.to_dict(), "model_args": self.model_args, "config": self.cfg.to_dict(),
            "splits": self.splits.describe(), "world_size": self.ctx.world_size, "device": self.device,
            "amp": str(amp).replace("torch.", "") if amp else "off",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
        }
        hands = training_hand_settings(self.ds, self.spec, self.splits.train)
        if hands is not None:
            run_config["hands"] = hands
        atomic.write_json(self.run_dir / "config.json", run_config)

    def _build_model(self) -> None:
        import torch

        from fingerspell.models import create_model

        cfg, ctx = self.cfg, self.ctx
        torch.manual_seed(cfg.seed)
        net = create_model(self.model_name, len(self.labels), **self.model_args).to(self.device)
        if ctx.enabled:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(net, device_ids=[ctx.local_rank] if self.device.startswith("cuda") else None)
        self.net = net
        self.optimizer = build_optimizer(net, cfg)
        # Built for its length only; like every loader it sets the inputs' epoch first.
        self.steps_per_epoch = len(make_loader(self.train_set, cfg, 1, ctx, training=True))
        if self.steps_per_epoch == 0:
            raise TrainingError(f"no training batches: {len(self.splits.train)} samples for batch_size {cfg.batch_size}")
        self.scheduler = build_scheduler(self.optimizer, cfg, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        weights = class_weights(list(getattr(self.train_set, "labels", [])), len(self.labels), cfg.class_weights)
        self.criterion = torch.nn.CrossEntropyLoss(weight=weights.to(self.device) if weights is not None else None,
                                                   label_smoothing=cfg.label_smoothing)
        if weights is not None:
            self.log("class weights (balanced): " + ", ".join(f"{l}={w:.2f}" for l, w in zip(self.labels, weights.tolist())))

    def _restore(self) -> bool:
        """Load the `last` checkpoint; True when the run had already finished."""
        from fingerspell.train.checkpoint import unwrap

        path = self.resume_from
        if path is None:
            return False
        ckpt = load_checkpoint(path)
        unwrap(self.net).load_state_dict(ckpt.model_state)
        self.optimizer.load_state_dict(ckpt.part("optimizer"))
        self.scheduler.load_state_dict(ckpt.part("scheduler") or {})
        if self.scaler is not None and ckpt.part("scaler"):
            self.scaler.load_state_dict(ckpt.part("scaler"))
        if ckpt.part("rng"):
            set_rng_state(ckpt.part("rng"))
        self.history = list(ckpt.state.get("history", []))
        best_score = ckpt.state.get("best_score")
        # checkpoints from before the tie-break kept a bare number
        self.best_score = best_score if isinstance(best_score, list) else None
        self.bad_epochs = int(ckpt.state.get("bad_epochs", 0))
        self.start_epoch = int(ckpt.state["epoch"]) + 1
        if ckpt.state.get("stopped_early") or self.start_epoch > self.cfg.epochs:
            self.log(f"run {self.run_dir.name} is complete ({self.start_epoch - 1} epochs"
                     f"{', stopped early' if ckpt.state.get('stopped_early') else ''}); nothing to resume")
            return True
        self.log(f"resuming {self.run_dir.name} at epoch {self.start_epoch} of {self.cfg.epochs} from {path.name}")
        return False

    def _open_writer(self) -> None:
        if self.ctx.is_main:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.run_dir))

    # ---- one epoch ------------------------------------------------------------------------------
    def _run_epoch(self, epoch: int) -> bool:
        """Train, validate, keep the best, save. True when training should stop early."""
        loss_sum, correct, seen, started = self._train_epoch(epoch)
        train_time = time.perf_counter() - started
        metrics = self._validate(epoch, loss_sum, correct, seen, started, train_time)
        self.history.append(metrics)
        improved = self._track_best(metrics)
        cfg = self.cfg
        stopped_early = bool(cfg.early_stopping and self.bad_epochs >= cfg.early_stopping and epoch < cfg.epochs)
        self.log(f"epoch {epoch}/{cfg.epochs}: train loss {metrics['train_loss']:.4f} acc {metrics['train_acc']:.2%} | "
                 f"val loss {metrics['val_loss']:.4f} acc {metrics['val_acc']:.2%} | lr {metrics['lr']:.2e} | "
                 f"{metrics['seconds']:.1f}s{' | best' if improved else ''}")
        if self.ctx.is_main:
            self._save(epoch, metrics, improved, stopped_early)
        if stopped_early:
            self.log(f"early stopping: {cfg.monitor} has not improved for {self.bad_epochs} epochs")
        return stopped_early

    def _train_epoch(self, epoch: int) -> tuple[float, float, float, float]:
        """One pass over the training data; (loss sum, correct, seen) summed over all ranks,
        and when the pass started (perf_counter)."""
        import torch

        cfg, ctx = self.cfg, self.ctx
        torch.manual_seed(epoch_seed(cfg.seed, epoch) ^ ctx.rank)  # dropout masks replay on resume
        loader = make_loader(self.train_set, cfg, epoch, ctx, training=True)
        self.net.train()
        started = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = None
        if cfg.progress and ctx.is_main:
            from tqdm import tqdm

            bar = tqdm(total=len(loader), desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=True, file=sys.stderr,
                       dynamic_ncols=True)
        for step, (x, y) in enumerate(loader, start=1):
            logits, loss, y = self._train_step(epoch, step, x, y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += len(y)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}",
                                lr=f"{self.optimizer.param_groups[0]['lr']:.2e}", refresh=False)
        if bar is not None:
            bar.close()
        total = ddp.all_reduce_sum(ctx, [loss_sum, float(correct), float(seen)])
        return total[0], total[1], total[2], started

    def _train_step(self, epoch: int, step: int, x: Any, y: Any) -> tuple[Any, Any, Any]:
        """Forward, loss, NaN check, backward and optimiser step for one batch; (logits, loss,
        the labels on the device)."""
        import torch

        self.batches_run += 1
        if self.hooks.kill_after_batches and self.batches_run >= self.hooks.kill_after_batches:
            # testing aid: die the way a killed process dies, with no chance to clean up
            os.kill(os.getpid(), signal.SIGKILL)
        global_step = (epoch - 1) * self.steps_per_epoch + step
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        with torch.autocast(device_type="cuda", dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            logits = self.net(x)
            loss = self.criterion(logits.float(), y)
        if self.hooks.inf_loss_at_batch and global_step == self.hooks.inf_loss_at_batch:
            loss = loss * float("inf")  # testing aid: an overflow as a too-high lr would cause
        finite = bool(torch.isfinite(loss))
        if self.ctx.enabled:
            finite = ddp.all_reduce_sum(self.ctx, [0.0 if finite else 1.0])[0] == 0
        if not finite:
            self._raise_nan(epoch, step, float(loss.detach()))
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        self.scheduler.step()
        return logits, loss, y

    def _validate(self, epoch: int, loss_sum: float, correct: float, seen: float, started: float,
                  train_time: float) -> dict[str, Any]:
        """The epoch's metrics: training figures plus a no-gradient pass over the val split."""
        from fingerspell.train.checkpoint import unwrap

        val_loader = make_loader(self.val_set, self.cfg, epoch, self.ctx, training=False)
        val = evaluate_loader(unwrap(self.net), val_loader, self.device, self.amp_dtype, self.criterion)
        return {
            "epoch": epoch, "train_loss": loss_sum / max(1, seen), "train_acc": correct / max(1, seen),
            "val_loss": val["loss"], "val_acc": val["acc"], "lr": self.optimizer.param_groups[0]["lr"],
            "seconds": round(time.perf_counter() - started, 2), "train_images_per_s": round(seen / max(train_time, 1e-9), 1),
        }

    def _track_best(self, metrics: dict[str, Any]) -> bool:
        """Update the best score and the epochs without improvement; True when this is the best."""
        score = selection_key(metrics, self.cfg.monitor)
        improved = self.best_score is None or is_better(score, list(self.best_score))
        if improved:
            self.best_score, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        return improved

    def _save(self, epoch: int, metrics: dict[str, Any], improved: bool, stopped_early: bool) -> None:
        """Checkpoints (last, and best when improved), TensorBoard scalars and the curves."""
        cfg = self.cfg
        info = {"epoch": epoch, "metrics": metrics, "history": self.history, "best_score": self.best_score,
                "monitor": cfg.monitor, "bad_epochs": self.bad_epochs, "stopped_early": stopped_early,
                "model": self.model_name, "labels": self.labels,
                "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        save_checkpoint(self.run_dir, "last", model=self.net, info=info, optimizer=self.optimizer,
                        scheduler=self.scheduler, scaler=self.scaler, rng=rng_state())
        if improved:
            save_checkpoint(self.run_dir, "best", model=self.net, info=info)
        for key in ("train_loss", "val_loss"):
            self.writer.add_scalar(f"loss/{key[:-5]}", metrics[key], epoch)
        for key in ("train_acc", "val_acc"):
            self.writer.add_scalar(f"accuracy/{key[:-4]}", metrics[key], epoch)
        self.writer.add_scalar("lr", metrics["lr"], epoch)
        self.writer.flush()
        note = (f" (train loss with label smoothing {cfg.label_smoothing:g} and augmentation; val loss plain)"
                if cfg.label_smoothing else "")
        plot_curves(self.history, self.run_dir / "curves.png", f"{self.run_dir.name}{note}")

    # ---- the end --------------------------------------------------------------------------------
    def _finish(self) -> Run:
        ddp.barrier(self.ctx)  # other ranks read the run folder only once rank 0 has finished writing it
        run = Run.load(self.run_dir)
        if run.best:
            self.log(f"done: best epoch {run.best['epoch']} with val acc {run.best['val_acc']:.2%}; run folder {self.run_dir}")
        return run

    def _raise_nan(self, epoch: int, step: int, value: float) -> None:
        last = self.run_dir / "last.json"
        if last.exists():
            kept_epoch = json.loads(last.read_text(encoding="utf-8")).get("epoch")
            kept = f"the last good checkpoint (end of epoch {kept_epoch}) is kept in {self.run_dir}"
        else:
            kept = f"no checkpoint was written yet (the first epoch had not finished); run folder {self.run_dir}"
        message = (f"loss became {value} at epoch {epoch}, batch {step} (lr {self.optimizer.param_groups[0]['lr']:.3g}): "
                   f"training stopped; {kept}. Lower lr, or check the data for broken samples")
        self.log(message)
        raise TrainingError(message)
