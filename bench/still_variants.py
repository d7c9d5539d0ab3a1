"""Would another training recipe read unseen people's photos better? Fold models per variant.

    .venv/bin/python bench/still_variants.py                                  # the shipped recipe
    .venv/bin/python bench/still_variants.py --augment bone_scale=0.08        # longer/shorter finger bones
    .venv/bin/python bench/still_variants.py --augment tilt_ratio=1.0         # tilt as strong as the rotation
    .venv/bin/python bench/still_variants.py --readings fast,views            # train on other readings too
    .venv/bin/python bench/still_variants.py --seed 1                         # another seed, the same folds

The folds of `bench/fit_still.py` (Massey leave one signer out, 24 static letters; asl-letters in
5 folds by source photo, 26 letters; the fold seed stays 0 whatever `--seed` says, so variants are
compared on the same held-out photos), each fold model trained with the shipped recipe as
changed by the options on everything else in massey, asl-letters, asl-alphabet and asl-landmarks.
`--readings` adds, for Massey's and asl-letters' training photos, their fast-path detection
(`fast`) and/or their test-time views (`views`) as more training samples. Printed and written to
bench/results/still_variants-<name>.json per protocol: top-1 of the fast path and of the full path
(views averaged), and the cascade's letters given right with still settings fitted without the
reported fold (what `fit_still.py` reports as honest). Needs the FINGERSPELL_HOME that
`fit_still.py` needs. Never used to choose anything on these folds' own figures alone: a variant
is worth shipping only if it beats the seed-to-seed spread (run `--seed 1` beside it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fold models of a recipe variant on unseen signers / photos.")
    parser.add_argument("--augment", action="append", default=[], help="KEY=VALUE of train.augment (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="the recipe's seed (the folds stay those of seed 0)")
    parser.add_argument("--readings", default="", help="comma-separated: fast, views (extra training readings)")
    parser.add_argument("--name", default=None, help="names the result file (default: from the options)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)

    import torch

    from fingerspell.atomic import write_json
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE
    from fingerspell.evaluate.still_fit import cross_fitted, fit_still, fold_sets, out_of_fold_predictions, score_settings
    from fingerspell.export.bundle import Bundle
    from fingerspell.home import default_bundle_dir

    torch.set_num_threads(1)
    started = time.time()
    augment = {}
    for item in args.augment:
        key, _, value = item.partition("=")
        augment[key] = float(value)
    recipe = replace(FULL_RECIPE, seed=args.seed, augment=replace(FULL_RECIPE.augment, **augment))
    readings = [r.strip() for r in args.readings.split(",") if r.strip()]
    if set(readings) - {"fast", "views"}:
        parser.error(f"unknown reading(s) {sorted(set(readings) - {'fast', 'views'})}: use fast, views")
    name = args.name or "-".join(["shipped"] + [a.replace("=", "") for a in args.augment]
                                 + ([f"seed{args.seed}"] if args.seed else []) + readings)
    sets, fast = fold_sets(("massey", "asl-letters", "asl-alphabet", "asl-landmarks"))

    def extra(dataset: str, rows: np.ndarray) -> list:
        if dataset not in fast:
            return []
        out = ([fast[dataset].subset(rows)] if "fast" in readings else []) + \
              ([v.subset(rows) for v in sets[dataset].views] if "views" in readings else [])
        return [o.subset(o.found) for o in out]

    folds = out_of_fold_predictions(sets, fast, recipe, log=print, extra=extra if readings else None, fold_seed=0)
    temperature = Bundle.load(default_bundle_dir()).temperature
    fitted = fit_still(folds, temperature)
    honest, _ = cross_fitted(folds, temperature)
    paths = {"fast": score_settings(folds, fitted, "fast"), "full": score_settings(folds, fitted, "full")}
    report = {"name": name, "recipe": recipe.to_dict(), "readings": readings, "protocols": {}}
    for protocol in honest:
        row = {"fast_top1": paths["fast"][protocol]["top1"], "full_top1": paths["full"][protocol]["top1"],
               "cascade_letters_right": honest[protocol]["letters_right"],
               "cascade_escalated": honest[protocol]["escalated"], "worst": honest[protocol]["worst_letters"]}
        report["protocols"][protocol] = row
        print(f"{name} {protocol}: fast top-1 {row['fast_top1']:.1%}, full top-1 {row['full_top1']:.1%}, "
              f"cascade letters given right {row['cascade_letters_right']:.1%} "
              f"({row['cascade_escalated']:.0%} escalated)")
    report["seconds"] = round(time.time() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"still_variants-{name}.json", report)
    print(json.dumps(report["protocols"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
