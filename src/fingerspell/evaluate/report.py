"""`evaluate(run, data, split)`: score a run on a split and write a report a person reads.

Writes into `<run>/eval-<data>-<split>/` (or `out`): report.json, report.html and PNGs:
confusion matrix, reliability diagram (with the expected calibration error), the
coverage/accuracy curve, mistakes gallery, per-letter F1 bars. Letters given right at the
threshold, top-1, coverage, ECE and the curve come from the one evaluation path
(`evaluate.still_metrics.score_answers`), as in `bench accuracy` and `predict FOLDER`. Inputs come from the model's input-kind builder, so landmark
models are evaluated the same way (their gallery tiles show the landmarks or nothing).
"""
from __future__ import annotations

import html
import json
import math
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import atomic
from fingerspell.evaluate import metrics as M
from fingerspell.evaluate.still_metrics import score_answers
from fingerspell.errors import FingerspellError, TrainingError

GALLERY_MAX = 24


@dataclass
class Report:
    """The outcome of an evaluation; `to_dict()` is what report.json holds."""

    run: str
    data: str
    split: str
    checkpoint: str
    n: int
    top1: float
    top5: float
    ece: float
    images_per_s: float
    model_images_per_s: float
    per_class: list[dict[str, Any]]
    confused_pairs: list[dict[str, Any]]
    calibration: list[dict[str, Any]]
    mistakes: list[dict[str, Any]]
    labels: list[str]
    confusion: list[list[int]]
    skipped: dict[str, int] = field(default_factory=dict)
    no_hand: int = 0  # samples with no hand found (landmark models): counted as wrong in top1/top5
    threshold: float = 0.5       # a letter is given when its probability reaches it
    letters_right: float = float("nan")  # share of all samples given the right letter at the threshold
    coverage: float = float("nan")       # share given a letter at the threshold
    worst_letters: list[list[Any]] = field(default_factory=list)  # the three lowest per-letter top-1
    curve: list[dict[str, float]] = field(default_factory=list)   # coverage / accuracy per threshold
    out: Path | None = None
    files: list[str] = field(default_factory=list)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out) if self.out else None
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def summary(self) -> str:
        lines = [f"{self.run} on {self.data}/{self.split} ({self.checkpoint}): top-1 {self.top1:.2%}, top-5 {self.top5:.2%}, "
                 f"ECE {self.ece:.3f}, {self.n} samples, {self.images_per_s:.0f} samples/s ({self.model_images_per_s:.0f} model only)",
                 f"letters given right at >= {self.threshold:.2f}: {self.letters_right:.2%} (coverage {self.coverage:.2%}); "
                 "worst: " + ", ".join(f"{k} {v:.0%}" for k, v in self.worst_letters)]
        if self.confused_pairs:
            lines.append("most confused: " + ", ".join(f"{p['true']}->{p['predicted']} x{p['count']}" for p in self.confused_pairs[:5]))
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{v} {k}" for k, v in self.skipped.items()))
        if self.out:
            lines.append(f"report: {self.out / 'report.html'}")
        return "\n".join(lines)


def _display(inputs: Any, i: int) -> np.ndarray | None:
    display = getattr(inputs, "display", None)
    if display is None:
        return None
    try:
        return display(i)
    except Exception:  # a tile that cannot be drawn should not sink the report
        return None


def evaluate(run: str | Path, data: str, split: str | None = "test", out: str | Path | None = None, *,
             which: str = "best", batch_size: int = 256, device: str = "cpu", progress: bool = True,
             threshold: float = 0.5) -> Report:
    """Evaluate run `run` (name or folder) on `split` of dataset `data` and write the report;
    a letter counts as given when its probability reaches `threshold`.

    Samples whose letter the model does not know are skipped (and counted in `skipped`).
    `split=None` or "all" evaluates every sample. Raises RunNotFoundError,
    DatasetNotFoundError, TrainingError (missing checkpoint) and FingerspellError (unknown
    split, nothing to evaluate)."""
    import torch

    from fingerspell.data import Dataset
    from fingerspell.models import get_model_spec
    from fingerspell.train.checkpoint import load_run_model
    from fingerspell.train.config import TrainConfig, config_from_dict
    from fingerspell.train.inputs import build_inputs

    model, info = load_run_model(run, which)
    model.to(device)
    spec = get_model_spec(info.model)
    if info.recipe is not None:
        # A recipe run (`train --recipe`) records the recipe's own keys, not a TrainConfig; its
        # inputs are landmarks, which use none of the image options.
        cfg = TrainConfig(progress=progress)
    else:
        cfg_dict = dict(info.config)
        cfg_dict["progress"] = progress
        cfg = config_from_dict(cfg_dict)
    ds = Dataset.load(data)
    try:
        if split in (None, "all"):
            split_name, samples = "all", list(ds.samples())
        else:
            if split not in ds.splits():
                raise FingerspellError(f"dataset {data!r} has no {split!r} split; splits: {', '.join(ds.splits()) or 'none (run `fingerspell data split`)'}")
            split_name, samples = split, list(ds.samples(split=split))
        model_index = {label.upper(): i for i, label in enumerate(info.labels)}
        kept = [s for s in samples if s.label.upper() in model_index]
        skipped: dict[str, int] = {}
        unknown = len(samples) - len(kept)
        if unknown:
            skipped["samples with letters the model was not trained on"] = unknown
        if not kept:
            raise FingerspellError(f"{data}/{split_name}: no samples with letters the model knows ({', '.join(info.labels)})")
        inputs = build_inputs(ds, kept, spec, cfg, training=False)
        used = list(getattr(inputs, "samples", kept))
        if len(used) != len(inputs):
            used = [None] * len(inputs)
        if len(inputs) < len(kept):
            skipped["samples the input builder dropped (e.g. no hand found)"] = len(kept) - len(inputs)
        to_model = np.array([model_index.get(c.upper(), -1) for c in ds.classes])
        loader = torch.utils.data.DataLoader(inputs, batch_size=batch_size, shuffle=False, num_workers=0)
        probs_parts, y_parts = [], []
        model_time = 0.0
        started = time.perf_counter()
        batches = loader
        if progress:
            from tqdm import tqdm

            batches = tqdm(loader, desc=f"eval {data}/{split_name}", unit="batch", leave=False)
        with torch.no_grad():
            for x, y in batches:
                x = x.to(device)
                t0 = time.perf_counter()
                logits = model(x)
                model_time += time.perf_counter() - t0
                probs_parts.append(torch.softmax(logits.float(), 1).cpu().numpy())
                y_parts.append(to_model[np.asarray(y)])
        total_time = time.perf_counter() - started
        probs = np.concatenate(probs_parts)
        y_true = np.concatenate(y_parts)
        if (y_true < 0).any():
            raise TrainingError("input builder returned a class index outside the dataset's classes")
        # Landmark inputs keep the samples where no hand was found (as zero features) and flag
        # them in `inputs.found`: the model cannot answer for them, so they count as wrong in
        # top-1 and top-5, stay out of the confusion matrix, and are reported as `no_hand`.
        found = np.asarray(getattr(inputs, "found", None) if getattr(inputs, "found", None) is not None
                           else np.ones(len(y_true), bool), dtype=bool)
        if len(found) != len(y_true):
            found = np.ones(len(y_true), bool)
        probs[~found] = 0.0
        pred = probs.argmax(1)
        conf = probs.max(1)
        correct = (pred == y_true) & found
        labels = list(info.labels)
        matrix = M.confusion_matrix(y_true[found], pred[found], len(labels))
        rows = sorted({model_index[c.upper()] for c in ds.classes if c.upper() in model_index})
        answers = score_answers(probs, y_true, labels, threshold)
        ece, bins = answers.ece, answers.reliability
        no_hand = int((~found).sum())
        if no_hand:
            skipped["no hand found (counted as wrong, not in the confusion matrix)"] = no_hand
        wrong = np.flatnonzero(~correct)
        wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:GALLERY_MAX]
        mistakes = []
        for i in wrong:
            s = used[i]
            mistakes.append({"index": int(i), "sample_id": getattr(s, "id", None), "source": getattr(s, "where", None),
                             "true": labels[y_true[i]], "predicted": labels[pred[i]] if found[i] else "no hand",
                             "confidence": float(conf[i])})
        top5 = float(np.mean((np.argsort(-probs, axis=1)[:, :5] == y_true[:, None]).any(axis=1) & found)) if len(y_true) else float("nan")
        report = Report(
            run=info.name, data=data, split=split_name, checkpoint=which, n=int(len(y_true)),
            top1=answers.top1, top5=top5, ece=ece, no_hand=no_hand, threshold=float(threshold),
            letters_right=answers.letters_right, coverage=answers.coverage,
            worst_letters=[[k, v] for k, v in answers.worst], curve=answers.curve,
            images_per_s=len(y_true) / max(total_time, 1e-9), model_images_per_s=len(y_true) / max(model_time, 1e-9),
            per_class=M.per_class(matrix, labels, rows, y_true, pred, conf), confused_pairs=M.confused_pairs(matrix, labels),
            calibration=bins, mistakes=mistakes, labels=labels, confusion=matrix.tolist(), skipped=skipped,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        out_dir = Path(out) if out is not None else info.path / f"eval-{data}-{split_name}"
        _write(report, out_dir, inputs, rows, matrix)
        return report
    finally:
        ds.close()


# ---- writing ----------------------------------------------------------------------------------


def _write(report: Report, out: Path, inputs: Any, rows: list[int], matrix: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    report.out = out
    report.files = ["report.html", "report.json", "confusion.png", "reliability.png", "coverage.png", "mistakes.png",
                    "per_class.png"]
    _plot_confusion(matrix, report.labels, rows, out / "confusion.png", f"{report.run} on {report.data}/{report.split}")
    _plot_reliability(report, out / "reliability.png")
    _plot_coverage(report, out / "coverage.png")
    _plot_mistakes(report, inputs, out / "mistakes.png")
    _plot_per_class(report, out / "per_class.png")
    atomic.write_json(out / "report.json", report.to_dict())
    atomic.write_text(out / "report.html", _html(report))


def _plot_confusion(matrix: np.ndarray, labels: list[str], rows: list[int], path: Path, title: str) -> None:
    import matplotlib.pyplot as plt

    cols = sorted(set(rows) | set(np.flatnonzero(matrix[rows].sum(0)).tolist()))
    sub = matrix[np.ix_(rows, cols)]
    share = sub / np.maximum(sub.sum(1, keepdims=True), 1)
    size = max(5.0, 0.32 * len(cols) + 2)
    fig, ax = plt.subplots(figsize=(size, size * len(rows) / max(1, len(cols)) + 0.8))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), [labels[c] for c in cols], fontsize=7)
    ax.set_yticks(range(len(rows)), [labels[r] for r in rows], fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(cols) <= 40:
        for r in range(len(rows)):
            for c in range(len(cols)):
                if sub[r, c]:
                    ax.text(c, r, str(sub[r, c]), ha="center", va="center", fontsize=5.5, color="white" if share[r, c] > 0.5 else "black")
    ax.set_title(f"confusion matrix (counts; colour = share of the true letter)\n{title}", fontsize=8)
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=110)
    plt.close(fig)


def _plot_reliability(report: Report, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    bins = [b for b in report.calibration if b["count"]]
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    ax.bar(centres, [b["accuracy"] for b in bins], width=0.09, alpha=0.8, label="accuracy", edgecolor="k")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.plot(centres, [b["confidence"] for b in bins], "o", color="C3", label="mean confidence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability diagram: ECE {report.ece:.3f}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=110)
    plt.close(fig)


def _plot_coverage(report: Report, path: Path) -> None:
    """Coverage and accuracy of the letters given against the threshold (the curve a default
    threshold is chosen from)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    t = [c["threshold"] for c in report.curve]
    ax.plot(t, [c["coverage"] for c in report.curve], label="coverage (letter given)")
    ax.plot(t, [c["given_accuracy"] for c in report.curve], label="accuracy of the letters given")
    ax.plot(t, [c["letters_right"] for c in report.curve], label="letters given right (of all)")
    ax.axvline(report.threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {report.threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence threshold")
    ax.set_title("coverage / accuracy against the threshold", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=110)
    plt.close(fig)


def _plot_mistakes(report: Report, inputs: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    items = report.mistakes
    cols = 6
    rows = max(1, math.ceil(len(items) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.1 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if not items:
        axes[0][0].text(0, 0.5, "no mistakes", fontsize=12)
    for ax, m in zip(axes.flat, items):
        image = _display(inputs, m["index"])
        if image is not None:
            ax.imshow(image)
        else:
            ax.text(0.5, 0.5, "(no image)", ha="center", va="center", fontsize=8, transform=ax.transAxes)
        ax.set_title(f"true {m['true']} / pred {m['predicted']}\n{m['confidence']:.0%} confident", fontsize=7,
                     color="C3" if m["confidence"] >= 0.5 else "black")
    fig.suptitle(f"mistakes, most confident first: {report.run} on {report.data}/{report.split}", fontsize=8)
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=100)
    plt.close(fig)


def _plot_per_class(report: Report, path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = report.per_class
    fig, ax = plt.subplots(figsize=(max(5, 0.3 * len(rows) + 1.5), 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["precision"] for r in rows], width=0.4, label="precision")
    ax.bar(x + 0.2, [r["recall"] for r in rows], width=0.4, label="recall")
    ax.set_xticks(x, [r["letter"] for r in rows], fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_title("per-letter precision and recall", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    atomic.save_figure(fig, path, dpi=100)
    plt.close(fig)


def _html(report: Report) -> str:
    e = html.escape

    def pct(v: float) -> str:
        return "n/a" if v != v else f"{v:.1%}"

    per_class = "".join(
        f"<tr><td>{e(r['letter'])}</td><td>{pct(r['precision'])}</td><td>{pct(r['recall'])}</td><td>{pct(r['f1'])}</td>"
        f"<td>{r['support']}</td></tr>" for r in report.per_class)
    confident = "".join(
        f"<tr><td>{e(r['letter'])}</td><td>{r['support']}</td><td>{r['correct_confident']}</td><td>{pct(r['correct_confident_pct'])}</td></tr>"
        for r in report.per_class)
    pairs = "".join(
        f"<tr><td>{e(p['true'])}</td><td>{e(p['predicted'])}</td><td>{p['count']}</td><td>{pct(p['share'])}</td></tr>"
        for p in report.confused_pairs) or "<tr><td colspan=4>none</td></tr>"
    mistakes = "".join(
        f"<tr><td>{e(str(m['source']))}</td><td>{e(m['true'])}</td><td>{e(m['predicted'])}</td><td>{pct(m['confidence'])}</td></tr>"
        for m in report.mistakes) or "<tr><td colspan=4>none</td></tr>"
    skipped = "".join(f"<li>{v} {e(k)}</li>" for k, v in report.skipped.items())
    curve = "".join(f"<tr><td>{c['threshold']:.2f}</td><td>{pct(c['coverage'])}</td><td>{pct(c['given_accuracy'])}</td>"
                    f"<td>{pct(c['letters_right'])}</td></tr>" for c in report.curve[::3])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(report.run)} on {e(report.data)}/{e(report.split)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f0f0f0}}td:first-child{{text-align:left}}
.big{{font-size:1.4em}}img{{max-width:100%}}</style></head><body>
<h1>{e(report.run)}</h1>
<p>Evaluated on <b>{e(report.data)}</b>, split <b>{e(report.split)}</b>, checkpoint <b>{e(report.checkpoint)}</b>, {report.n} samples, {e(report.created)}.</p>
<p class="big">top-1 <b>{pct(report.top1)}</b> &middot; top-5 <b>{pct(report.top5)}</b> &middot; expected calibration error <b>{report.ece:.3f}</b>
&middot; {report.images_per_s:.0f} samples/s end to end ({report.model_images_per_s:.0f} in the model)</p>
{f'<ul>{skipped}</ul>' if skipped else ''}
<h2>Per letter</h2>
<table><tr><th>letter</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{per_class}</table>
<img src="per_class.png" alt="per-letter precision and recall">
<h2>Correct at &ge; 50% confidence</h2>
<table><tr><th>letter</th><th>test images</th><th>correct at &ge; 50% confidence</th><th>share</th></tr>{confident}</table>
<h2>Confusion matrix</h2><img src="confusion.png" alt="confusion matrix">
<h2>Most confused pairs</h2>
<table><tr><th>true</th><th>predicted as</th><th>count</th><th>share of true letter</th></tr>{pairs}</table>
<h2>Mistakes</h2><img src="mistakes.png" alt="mistakes gallery">
<table><tr><th>sample</th><th>true</th><th>predicted</th><th>confidence</th></tr>{mistakes}</table>
<h2>Calibration</h2><p>Expected calibration error (ECE, 15 bins, samples with a hand): <b>{report.ece:.3f}</b></p>
<img src="reliability.png" alt="reliability diagram">
<h2>Coverage and accuracy against the threshold</h2>
<p>At threshold {report.threshold:.2f}: letters given right <b>{pct(report.letters_right)}</b> of all samples,
coverage {pct(report.coverage)}; worst letters (top-1): {e(", ".join(f"{k} {pct(v)}" for k, v in report.worst_letters))}.</p>
<img src="coverage.png" alt="coverage and accuracy against the confidence threshold">
<table><tr><th>threshold</th><th>coverage</th><th>accuracy of the letters given</th><th>letters given right</th></tr>{curve}</table>
</body></html>
"""
