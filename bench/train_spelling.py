"""Fit what the spelling rules need and write it into a bundle's bundle.json.

    .venv/bin/python bench/train_spelling.py            # the package's default bundle
    .venv/bin/python bench/train_spelling.py --out DIR  # another bundle folder

1. "spelling.motion": the J/Z motion model (`fingerspell.infer.motion_train`), trained on the
   TUNE takes of asl-landmarks only (takes 1-2 of each letter; bench_spelling reports on
   takes 3-4), with the rules' parameters (`fingerspell.export.spelling_params.DEFAULTS`,
   tuned with bench/bench_spelling.py --split tune) written out beside it.
2. "calibration": temperature scaling fitted on out-of-fold logits
   (`fingerspell.evaluate.calibration`): leave one signer out over Massey hand1-hand4 (3
   photos per static letter per signer, detected as the bundle detects still images) and the
   asl-landmarks signer (every frame), each model trained with the shipped model's recipe
   (`protocols.FULL_RECIPE`) on the others. A subset, to keep it to a few CPU minutes.
The model itself (model.onnx) is not touched.
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
sys.path.insert(0, str(REPO / "bench"))


def landmark_set(takes_file: Path, poses: list) -> tuple:
    """Massey poses + every asl-landmarks frame as one LandmarkSet, with sources."""
    from fingerspell.evaluate.protocols import LandmarkSet

    with np.load(takes_file) as data:
        frames, letters = data["x"].astype(np.float32), data["y"].astype(str)
    n = len(poses)
    points = np.concatenate([np.stack([p.landmarks for p in poses]).astype(np.float32), frames])
    labels = np.concatenate([np.array([p.letter for p in poses]), letters])
    groups = np.concatenate([np.array([p.signer for p in poses]), np.full(len(frames), "asl-landmarks")])
    handedness = np.concatenate([np.array([p.handedness for p in poses], dtype="<U5"), np.full(len(frames), "", "<U5")])
    sizes = np.concatenate([np.array([p.image_size for p in poses], dtype=np.float64),
                            np.tile([640.0, 480.0], (len(frames), 1))])
    data = LandmarkSet("massey+asl-landmarks", labels.astype(str), groups.astype(str), points, handedness, sizes,
                       np.ones(len(labels), bool))
    sources = np.concatenate([np.full(n, "massey"), np.full(len(frames), "asl-landmarks")])
    return data, sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the J/Z motion model and fit the calibration into bundle.json.")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "fingerspell" / "models" / "default")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "results" / "cache")
    parser.add_argument("--skip-calibration", action="store_true", help="keep the bundle's calibration")
    args = parser.parse_args(argv)

    import torch

    from bench_spelling import DATASETS, load_sources
    from fingerspell.atomic import write_json
    from fingerspell.evaluate.calibration import calibration_summary, out_of_fold_logits
    from fingerspell.evaluate.protocols import FULL_RECIPE
    from fingerspell.export.bundle import Bundle
    from fingerspell.export.spelling_params import DEFAULTS, SpellingParams
    from fingerspell.infer.motion_train import train_motion_model

    torch.set_num_threads(1)
    started = time.time()
    bundle = Bundle.load(args.out)
    takes, poses = load_sources(args.cache)
    tune = {letter: parts[:2] for letter, parts in takes.items()}
    motion, summary = train_motion_model(tune, DEFAULTS["motion_window"], DEFAULTS["motion_min_path"])
    motion["trained_on"] = "asl-landmarks takes 1-2 of each letter (bench/train_spelling.py)"
    motion["windows"] = summary["windows"]
    print(f"motion model: {summary}  ({time.time() - started:.0f} s)")
    spelling = {**json.loads(json.dumps(DEFAULTS)), "motion": motion}
    SpellingParams.from_dict(spelling, str(bundle.manifest_path))  # what we write must load
    bundle.extra["spelling"] = spelling
    report: dict = {"motion": summary, "calibration": bundle.extra.get("calibration")}
    if not args.skip_calibration:
        data, sources = landmark_set(DATASETS / "asl-landmarks" / "landmarks.npz", poses)
        logits, labels, groups = out_of_fold_logits(data, bundle.labels, FULL_RECIPE, sources, log=print)
        calibration = calibration_summary(
            logits, labels, groups,
            "out-of-fold logits, leave one signer out: Massey hand1-hand4 (3 photos per static letter each) "
            "and the asl-landmarks signer (all frames); FULL_RECIPE models")
        print(json.dumps({k: v for k, v in calibration.items() if k != "per_group"}))
        bundle.extra["calibration"] = calibration
        report["calibration"] = calibration
    bundle.save_manifest()
    report["seconds"] = round(time.time() - started, 1)
    write_json(REPO / "bench" / "results" / "train_spelling.json", report)
    print(f"wrote {bundle.manifest_path} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
