"""Reproduce the bundled default model: src/fingerspell/models/default/{model.onnx,bundle.json}.

    .venv/bin/python bench/train_default.py                       # train on all shared data, export
    .venv/bin/python bench/train_default.py --benchmarks bench/results/accuracy.json

What it does:
1. imports the shared landmark sources into FINGERSPELL_HOME if missing (massey, asl-letters,
   asl-alphabet, asl-landmarks) and extracts their hand landmarks (cached in each index);
2. trains `landmark-mlp` with the protocols' recipe (`fingerspell.evaluate.landmark_fit.FULL_RECIPE`,
   the one `fingerspell bench accuracy` measures on unseen signers) on ALL of it: letters A-Z,
   J and Z as the static poses the data shows; digits, `del`, `space` and `nothing` left out
   (Massey's digits look like letters - 2 is V, 6 is W - and `nothing` is the predictor's
   "no hand" state, not a letter); each source weighted equally;
3. exports ONNX (one file, input `features` [N, F], output `logits`), checks onnxruntime
   agrees with torch, and writes bundle.json with the labels, the feature recipe, the hand
   detector settings, the test-time views the predictor averages over for still images, the
   model size and the benchmark numbers (from --benchmarks, the JSON
   `fingerspell bench accuracy` wrote; without it the previous bundle's numbers are kept only
   if the recipe is unchanged).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


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
    parser.add_argument("--data-root", type=Path, default=None, help="shared datasets folder")
    parser.add_argument("--benchmarks", type=Path, default=None, help="accuracy.json from `fingerspell bench accuracy`")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from fingerspell.evaluate.accuracy_bench import BenchSettings, default_data_root, prepare_datasets
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE, fit_landmark_model
    from fingerspell.evaluate.landmark_sets import LETTERS, LandmarkSet
    from fingerspell.evaluate.scoring import score_set

    torch.set_num_threads(1)
    recipe = replace(FULL_RECIPE, seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    # Training needs no test-time views (they are for scoring and prediction).
    settings = BenchSettings(data_root=args.data_root or default_data_root(), out=args.out, test_views=())
    sets, extraction = prepare_datasets(settings)
    parts = [s.letters(LETTERS) for s in sets.values()]
    data = LandmarkSet.concat(parts, "all")
    sources = np.concatenate([np.full(len(p), p.name) for p in parts])
    started = time.perf_counter()
    model = fit_landmark_model(data, LETTERS, recipe, sources)
    seconds = time.perf_counter() - started
    fit = score_set(model, data, LETTERS)
    print(f"trained on {int(data.found.sum())} hands from {', '.join(sets)} in {seconds:.0f} s; "
          f"accuracy on its own training data {fit.top1:.2%} (no hand {fit.no_hand_rate:.2%})")

    training = {
        "data": {name: {"hands": int(s.letters(LETTERS).found.sum()), "found_rate": extraction[name]["found_rate"]}
                 for name, s in sets.items()},
        "seconds": round(seconds, 1), "train_top1": round(fit.top1, 4),
    }
    benchmarks = benchmark_summary(args.benchmarks) if args.benchmarks else {}
    return write_bundle(model, args.out, recipe, data.subset(data.found).features()[:8], training, benchmarks)


def write_bundle(model, out: Path, recipe, example_features, training: dict, benchmarks: dict) -> int:
    """Export `model` to out/model.onnx, check onnxruntime agrees, write and validate bundle.json."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from fingerspell.evaluate.landmark_sets import LETTERS
    from fingerspell.evaluate.views import TEST_VIEWS
    from fingerspell.export.bundle import Bundle, HandSettings, InputSpec
    from fingerspell.hands.extract import DEFAULT_DETECTOR_SETTINGS
    from fingerspell.hands.features import FEATURE_SIZE, FEATURES_VERSION

    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "model.onnx"
    example = torch.as_tensor(example_features)
    model.eval()
    torch.onnx.export(model, (example,), str(onnx_path), input_names=["features"], output_names=["logits"],
                      dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(example).numpy()
    got = session.run(["logits"], {"features": example.numpy()})[0]
    if not np.allclose(got, expected, atol=1e-4):
        print(f"error: onnxruntime disagrees with torch (max diff {np.abs(got - expected).max():.2e})", file=sys.stderr)
        return 1
    bundle = Bundle(
        path=out, name="default", version="1",
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        labels=list(LETTERS),
        input=InputSpec(kind="landmarks", shape=[1, FEATURE_SIZE], names=["features"], features=FEATURES_VERSION),
        hands=HandSettings(model_complexity=int(DEFAULT_DETECTOR_SETTINGS["model_complexity"]),
                           min_detection_confidence=float(DEFAULT_DETECTOR_SETTINGS["min_detection_confidence"]),
                           robust=True,
                           # Video and camera track with the lite hand model: p50 4.8 vs 17.8 ms a
                           # frame at 640x480 (bench_latency.py), 99.0 vs 99.3% per-frame accuracy.
                           tracking_model_complexity=0,
                           refine_steps=int(DEFAULT_DETECTOR_SETTINGS["refine_steps"]),
                           tint_grey=bool(DEFAULT_DETECTOR_SETTINGS["tint_grey"]),
                           zoom=float(DEFAULT_DETECTOR_SETTINGS["zoom"])),
        benchmarks=benchmarks,
        extra={
            # Still images: also detect through these single attempts and average the model's
            # probabilities (Predictor(test_views=True)); the bench scores Massey and asl-letters so.
            "test_time_views": list(TEST_VIEWS),
            "model": {"architecture": recipe.model, "parameters": sum(p.numel() for p in model.parameters()),
                      "onnx_bytes": onnx_path.stat().st_size, "outputs": "logits (softmax for confidences)"},
            "training": {
                **training,
                "letters": "A-Z; J and Z are the static frames the data has; digits, del, space, nothing left out",
                "recipe": recipe.to_dict(), "script": "bench/train_default.py",
            },
        },
    )
    bundle.save_manifest()
    Bundle.load(out)  # validates what was written
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1024:.0f} KiB) and {bundle.manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
