"""Fit how still images are read (bundle.json "still") on unseen signers, and report before/after.

    .venv/bin/python bench/fit_still.py                 # fit, report, write bench/results/still.json
    .venv/bin/python bench/fit_still.py --write         # ... and the "still" key of the default bundle
    .venv/bin/python bench/fit_still.py --reuse         # refit from the saved fold predictions (no training)

Needs FINGERSPELL_HOME with massey, asl-letters, asl-alphabet and asl-landmarks imported and
their landmarks and test-time views extracted (`fingerspell bench accuracy` prepares them; `--sets`
names fewer training sets); the fast-path detections (no refinement) of Massey and asl-letters are made here once and cached
in FINGERSPELL_HOME/landmark-views/ (about 2 CPU minutes).

Fold models: Massey leave one signer out and asl-letters in 5 folds by source photo, each trained
with the shipped model's recipe on the rest plus the other shared sets (`evaluate.still_fit`).
Reported per protocol (the README's table):
- before: today's default before the cascade: the full path for every image, probabilities
  softmax(logits / calibration T) averaged over views, threshold 0.5;
- after: the cascade with settings fitted WITHOUT the reported fold (leave one fold out over the
  nine folds: honest), and, beside it, with the settings fitted on all folds (what is shipped;
  in-sample for these folds).
The bundle's model.onnx is not touched; only bundle.json "still" is written (with --write).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _save(folds: list, path: Path) -> None:
    from fingerspell.atomic import write_bytes
    import io

    arrays = {}
    for i, f in enumerate(folds):
        for key in ("labels", "fast", "fast_found", "full", "full_found"):
            arrays[f"{i}_{key}"] = getattr(f, key)
        arrays[f"{i}_meta"] = np.array([f.protocol, f.fold, ",".join(f.classes)])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_bytes(path, buffer.getvalue())


def _load(path: Path) -> list:
    from fingerspell.evaluate.still_fit import FoldPredictions

    folds = []
    with np.load(path, allow_pickle=False) as data:
        i = 0
        while f"{i}_meta" in data:
            protocol, fold, classes = (str(v) for v in data[f"{i}_meta"])
            folds.append(FoldPredictions(protocol, fold, classes.split(","),
                                         *(data[f"{i}_{k}"] for k in ("labels", "fast", "fast_found", "full", "full_found"))))
            i += 1
    return folds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit bundle.json 'still' on unseen-signer folds; report before/after.")
    parser.add_argument("--bundle", type=Path, default=REPO / "src" / "fingerspell" / "models" / "default")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--write", action="store_true", help="write the fitted settings into the bundle's bundle.json")
    parser.add_argument("--reuse", action="store_true", help="reuse bench/results/still_folds-*.npz (no training)")
    parser.add_argument("--tested", default="massey,asl-letters",
                        help="which protocols to run fold models for (massey, asl-letters); the others' saved fold "
                        "predictions are reused")
    parser.add_argument("--epochs", type=int, default=None, help="fold models' epochs (default: the shipped recipe's)")
    parser.add_argument("--sets", default="massey,asl-letters,asl-alphabet,asl-landmarks",
                        help="datasets whose landmarks train the fold models (massey and asl-letters are also tested); "
                        "all must be imported with landmarks extracted (`fingerspell bench accuracy` prepares them)")
    args = parser.parse_args(argv)

    import torch
    from dataclasses import replace

    from fingerspell.atomic import write_json
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE
    from fingerspell.evaluate.still_fit import cross_fitted, fit_still, fold_sets, out_of_fold_predictions, score_settings
    from fingerspell.export.bundle import Bundle
    from fingerspell.export.still_params import StillParams

    torch.set_num_threads(1)
    started = time.time()
    bundle = Bundle.load(args.bundle)
    tested = [n.strip() for n in args.tested.split(",") if n.strip()]
    recipe = replace(FULL_RECIPE, epochs=args.epochs) if args.epochs else FULL_RECIPE
    if not args.reuse:
        sets, fast = fold_sets([n.strip() for n in args.sets.split(",") if n.strip()], tested)
        args.out.mkdir(parents=True, exist_ok=True)
        for name in tested:
            _save(out_of_fold_predictions(sets, fast, recipe, log=print, tested=[name]),
                  args.out / f"still_folds-{name}.npz")
    folds = [f for name in ("massey", "asl-letters") if (args.out / f"still_folds-{name}.npz").is_file()
             for f in _load(args.out / f"still_folds-{name}.npz")]
    if {f.protocol for f in folds} != {"massey-loso", "asl-letters-grouped"}:
        print("warning: fold predictions of only " + ", ".join(sorted({f.protocol for f in folds})))
    fitted = fit_still(folds, bundle.temperature)
    before = {"temperature_fast": bundle.temperature, "temperature_full": bundle.temperature,
              "escalate_below": 1.0, "threshold": 0.5}
    honest, per_fold = cross_fitted(folds, bundle.temperature)
    report = {
        "fitted": fitted,
        "before_full_path": score_settings(folds, before, "full"),
        "before_fast_path": score_settings(folds, before, "fast"),
        "after_cascade_cross_fitted": honest,
        "after_cascade_in_sample": score_settings(folds, fitted, "cascade"),
        "after_full_path": score_settings(folds, fitted, "full"),
        "after_fast_path": score_settings(folds, fitted, "fast"),
        "settings_per_held_out_fold": per_fold,
        "recipe_epochs": recipe.epochs,
    }
    for name in ("before_full_path", "before_fast_path", "after_cascade_cross_fitted", "after_cascade_in_sample"):
        print(name)
        for protocol, s in report[name].items():
            worst = ", ".join(f"{k} {v:.1%}" for k, v in s["worst_letters"])
            print(f"  {protocol}: letters given right {s['letters_right']:.1%}, top-1 {s['top1']:.1%}, "
                  f"coverage {s['coverage']:.1%}, ECE {s['ece']:.3f}, escalated {s['escalated']:.1%}, worst {worst}")
    still = {**fitted, "fitted_on": (
        "out-of-fold predictions of unseen signers / photos: Massey leave one signer out (24 static letters) "
        "and asl-letters 5 folds by source photo (26 letters), fold models trained with the shipped recipe on the "
        f"rest of {args.sets.replace(',', ', ')} (bench/fit_still.py)"),
        "rule": ("temperatures: minimum NLL (fast path; full path averaged over views); escalate_below: the lowest "
                 "bar at which the cascade's letters given right, at its threshold, reach on every protocol those of "
                 "the default before the cascade (full path, calibration T, threshold 0.5); threshold: most letters "
                 "given right minus letters given wrong on the cascade's answers"),
        "cross_fitted": {p: {k: s[k] for k in ("letters_right", "top1", "coverage", "ece", "escalated")}
                         for p, s in honest.items()}}
    StillParams.from_dict(still, str(bundle.manifest_path))  # what we write must load
    report["still"] = still
    report["seconds"] = round(time.time() - started, 1)
    write_json(args.out / "still.json", report)
    print(json.dumps(fitted))
    if args.write:
        bundle.extra["still"] = still
        bundle.save_manifest()
        print(f"wrote 'still' into {bundle.manifest_path}")
    print(f"wrote {args.out / 'still.json'} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
