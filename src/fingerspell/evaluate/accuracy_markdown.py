"""The accuracy bench's results as Markdown (bench/results/accuracy.md)."""
from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f}%"


def markdown_table(results: dict[str, Any]) -> str:
    """The bench's results as Markdown: one table of protocols, one cross-dataset matrix."""
    lines = [
        f"# Accuracy bench{' (quick: small subsets, few epochs - not the real numbers)' if results['quick'] else ''}",
        "",
        f"Features `{results['features']}`, model `{results['recipe']['model']}`, "
        f"{results['recipe']['epochs']} epochs. Images where no hand was found count as wrong.",
        "",
        "| dataset | samples | hand found | extraction images/s |",
        "|---|---:|---:|---:|",
    ]
    for name, s in results["extraction"].items():
        lines.append(f"| {name} | {s['samples']} | {_pct(s['found_rate'])} | {s['images_per_s'] or 'cached'} |")
    lines += ["", "| protocol | top-1 (pooled) | mean over folds | static letters | no hand | worst static letter | n |",
              "|---|---:|---:|---:|---:|---|---:|"]
    for name, p in results["protocols"].items():
        worst = p.get("min_static_letter")
        worst_text = f"{worst[0]} {_pct(worst[1])}" if worst else "-"
        lines.append(f"| {name} | {_pct(p['top1'])} | {_pct(p['mean_fold_top1'])} | {_pct(p.get('static_top1'))} | "
                     f"{_pct(p['no_hand_rate'])} | {worst_text} | {p['n']} |")
        if p.get("folds") and name.startswith("massey"):
            folds = ", ".join(f"{k} {_pct(v['top1'])}" for k, v in p["folds"].items())
            lines.append(f"| &nbsp;&nbsp;per signer | {folds} | | | | | |")
    answered = {n: p["answers"] for n, p in results["protocols"].items() if p.get("answers")}
    if answered:
        a = results.get("answers", {})
        lines += ["", f"Answers as `fingerspell predict` gives them (probabilities softmax(logits / {a.get('temperature', 1):g}) "
                  f"averaged over views; a letter given at >= {a.get('threshold', 0.5):g}; `evaluate.still_metrics`):", "",
                  "| protocol | letters given right | top-1 | coverage | ECE | worst three static letters (top-1) |",
                  "|---|---:|---:|---:|---:|---|"]
        for name, s in answered.items():
            worst = ", ".join(f"{k} {_pct(v)}" for k, v in s["worst_letters"])
            lines.append(f"| {name} | {_pct(s['letters_right'])} | {_pct(s['top1'])} | {_pct(s['coverage'])} | "
                         f"{s['ece']:.3f} | {worst} |")
    single = {n: p["single_view_top1"] for n, p in results["protocols"].items() if "single_view_top1" in p}
    if single:
        views = ", ".join(f"`{v}`" for v in results.get("test_time_views", []))
        lines += ["", f"Massey and asl-letters are scored with test-time views ({views}: probabilities averaged "
                  "over the robust detection and each view that finds the hand, as the predictor does for still "
                  "images). The robust detection alone: "
                  + ", ".join(f"{n} {_pct(v)}" for n, v in single.items()) + "."]
    matrix = results["protocols"].get("cross-dataset", {}).get("matrix")
    if matrix:
        tests = sorted({t for row in matrix.values() for t in row})
        lines += ["", "Cross-dataset top-1 (rows: trained on; columns: tested on; 24 static letters):", "",
                  "| train \\ test | " + " | ".join(tests) + " |", "|---|" + "---:|" * len(tests)]
        for train_name, row in matrix.items():
            lines.append(f"| {train_name} | " + " | ".join(_pct(row[t]["top1"]) if t in row else "-" for t in tests) + " |")
    sm = results.get("sign_mnist")
    if sm:
        lines += ["", "Sign-MNIST test (image model): "
                  + (f"`{sm['model']}` {sm['epochs']} epochs, top-1 {_pct(sm['top1'])} (n={sm['n']}). {sm['note']}."
                     if "top1" in sm else f"not run: {sm['error']}")]
    bundle = results.get("default_bundle")
    if bundle:
        lines += ["", f"Default bundle: model.onnx {bundle['onnx_bytes'] / 1024:.0f} KiB"
                  + (f", {bundle['parameters']:,} parameters" if bundle.get("parameters") else "") + "."]
    lines += ["", f"Total time {results['seconds']} s."]
    return "\n".join(lines) + "\n"
