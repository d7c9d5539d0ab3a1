"""Rebuild the bundled default model, src/fingerspell/models/default/, by the public path.

    .venv/bin/python bench/train_default.py                       # import + extract, train, export
    .venv/bin/python bench/train_default.py --benchmarks bench/results/accuracy.json

It ends by comparing the written model.onnx and browser.onnx with the committed ones (`git show
HEAD:...`, what `cmp` would say) and writes bench/results/train_default.json.

What it does (each step a library call a user can make from the command line):
1. imports the shared landmark sources into FINGERSPELL_HOME if missing (massey, asl-letters,
   asl-alphabet, asl-landmarks) and extracts their hand landmarks (cached in each index) -
   `fingerspell data import` + `fingerspell data landmarks`, as `fingerspell bench accuracy` does;
2. trains `recipes/default.yaml` (`fingerspell train --recipe recipes/default.yaml`): the
   protocols' recipe (`FULL_RECIPE`, what `fingerspell bench accuracy` measures on unseen
   signers) on all four datasets;
3. exports the run to --out (`fingerspell export RUN --out DIR`): model.onnx, browser.onnx and
   bundle.json with the labels, the feature recipe, the hand-detector settings of the training
   landmarks, the test-time views and where the model came from. When model.onnx comes out
   byte for byte the same, the keys later steps wrote (calibration and spelling from
   bench/train_spelling.py, benchmarks) are kept; otherwise rerun bench/train_spelling.py;
4. with --benchmarks, writes the headline numbers of an accuracy.json (`fingerspell bench
   accuracy`) into bundle.json's "benchmarks".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "default.yaml"


def benchmark_summary(path: Path) -> dict:
    """The headline numbers of an accuracy.json, for bundle.json."""
    results = json.loads(path.read_text())
    out: dict = {"source": "fingerspell bench accuracy" + (" --quick" if results.get("quick") else ""),
                 "features": results.get("features"), "no_hand_counts_as_wrong": True}
    for name, p in results.get("protocols", {}).items():
        entry = {"top1": p["top1"], "mean_fold_top1": p["mean_fold_top1"], "static_top1": p.get("static_top1"),
                 "no_hand_rate": p["no_hand_rate"],
                 "n": p["n"], "min_static_letter": p.get("min_static_letter")}
        if "single_view_top1" in p:  # scored with test-time views; the robust detection alone
            entry["test_time_views"] = p.get("test_time_views")
            entry["single_view_top1"] = p["single_view_top1"]
        if name.startswith("massey"):
            entry["per_signer"] = {k: v["top1"] for k, v in p.get("folds", {}).items()}
        if name == "cross-dataset":
            entry["matrix"] = {t: {k: v["top1"] for k, v in row.items()} for t, row in p.get("matrix", {}).items()}
        out[name] = entry
    out["hand_found_rate"] = {k: v["found_rate"] for k, v in results.get("extraction", {}).items()}
    if results.get("sign_mnist"):
        out["sign_mnist_image_model"] = results["sign_mnist"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train and export the bundled default landmark model.")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "fingerspell" / "models" / "default",
                        help="bundle folder to write (default: the package's default bundle)")
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="recipe file (default: recipes/default.yaml)")
    parser.add_argument("--data-root", type=Path, default=None, help="shared datasets folder")
    parser.add_argument("--benchmarks", type=Path, default=None, help="accuracy.json from `fingerspell bench accuracy`")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    args = parser.parse_args(argv)

    from fingerspell.errors import FingerspellError
    from fingerspell.evaluate.accuracy_bench import BenchSettings, default_data_root, prepare_datasets
    from fingerspell.export.bundle import Bundle
    from fingerspell.export.onnx import export_run
    from fingerspell.train.recipe_run import train_recipe

    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    try:
        # Training needs no test-time views (they are for scoring and prediction).
        prepare_datasets(BenchSettings(data_root=args.data_root or default_data_root(), out=args.out, test_views=()))
        run = train_recipe(args.recipe, overrides)
        print(f"run {run.path}: accuracy on its own training data {run.best.get('train_top1', 0):.2%}")
        folder = export_run(run.path, out=args.out, name="default")
        if args.benchmarks:
            bundle = Bundle.load(folder)
            bundle.benchmarks = benchmark_summary(args.benchmarks)
            bundle.save_manifest()
            Bundle.load(folder)
    except FingerspellError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    same = committed_bytes_match(folder)
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "train_default.json").write_text(json.dumps({
        "recipe": str(args.recipe), "run": str(run.path), "bundle": str(folder), "overrides": overrides,
        "train_top1": run.best.get("train_top1"), "same_as_committed": same}, indent=2))
    for name, equal in same.items():
        print(f"{name}: {'byte for byte the committed file' if equal else 'DIFFERS from the committed file'}")
    return 0


def committed_bytes_match(folder: Path) -> dict[str, bool]:
    """Whether folder's model.onnx and browser.onnx equal the default bundle's committed files
    (`git show HEAD:...`, so it also works when --out is the package folder itself)."""
    import subprocess

    out: dict[str, bool] = {}
    for name in ("model.onnx", "browser.onnx"):
        committed = subprocess.run(["git", "show", f"HEAD:src/fingerspell/models/default/{name}"], cwd=REPO,
                                   capture_output=True, check=False).stdout
        written = folder / name
        out[name] = bool(committed) and written.is_file() and written.read_bytes() == committed
    return out

if __name__ == "__main__":
    sys.exit(main())
