"""Benchmark: does a CNN on the hand crop, fused with the landmark model, help on unseen people?

Issue 4 asks for a fused model "if it helps": landmarks + a CNN that sees only the hand
(cropped around MediaPipe's landmarks, so most of the background is gone). This script
measures it on the two unseen-signer/photo protocols of `fingerspell bench accuracy`, with
the same folds, the same landmark recipe (`FULL_RECIPE`) and the same test-time views:

- massey-loso: train on three Massey signers, test on the fourth (24 static letters);
- asl-letters-grouped: 5 folds by source photo (26 letters).

Per fold it trains the landmark MLP on the protocol's training part and the registered
`letters-cnn-64` on 64x64 RGB hand crops of the same part plus Massey's other signers /
asl-letters' other photos and asl-alphabet (the crop model needs the data: one set alone has
too few people). Crops are mirrored like the landmark features (one chirality). It scores
the MLP alone, the crop CNN alone and their fusion: log-probabilities mixed with weight w on
the CNN. w = 0.5 is the a-priori choice; the sweep over w is printed too, but the best w of
the sweep is picked on the test folds, so it is an upper bound, not a result.

Images with no hand found count as wrong everywhere. Writes bench/results/fusion.json.

    .venv/bin/python bench/bench_fusion.py                  # both protocols, ~40 min on 2 cores
    .venv/bin/python bench/bench_fusion.py --protocols asl-letters-grouped --epochs 10

Needs the bench indexes and landmark caches (`fingerspell bench accuracy` builds them; this
script builds them too when missing).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

CROP = 64
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
PRIOR_WEIGHT = 0.5


def hand_crops(dataset_name: str, data) -> np.ndarray:
    """uint8 [N, CROP, CROP, 3]: a square around each found hand's landmarks (25% margin),
    mirrored where the landmark features mirror; zeros where no hand was found."""
    import cv2

    from fingerspell.data.images import read_image
    from fingerspell.data.index import Dataset
    from fingerspell.hands.features import mirror_mask

    with Dataset.load(dataset_name) as ds:
        paths = [ds.file_path(s) for s in ds.samples()]
    if len(paths) != len(data):
        raise SystemExit(f"{dataset_name}: index has {len(paths)} samples, landmark set {len(data)}")
    pixels = data.points * np.concatenate([data.image_size, data.image_size[:, :1]], 1)[:, None, :]
    flip = mirror_mask(data.handedness, pixels)
    out = np.zeros((len(data), CROP, CROP, 3), np.uint8)
    for i in np.flatnonzero(data.found):
        image = read_image(paths[i])
        h, w = image.shape[:2]
        x, y = data.points[i, :, 0] * w, data.points[i, :, 1] * h
        cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
        scale = CROP / (max(x.max() - x.min(), y.max() - y.min()) * 1.25 + 4)
        warp = np.array([[scale, 0, CROP / 2 - cx * scale], [0, scale, CROP / 2 - cy * scale]])
        crop = cv2.warpAffine(image, warp, (CROP, CROP), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        out[i] = crop[:, ::-1] if flip[i] else crop
    return out


def _to_tensor(crops: np.ndarray):
    import torch

    return (torch.as_tensor(crops).float().div(255).permute(0, 3, 1, 2) - 0.5) / 0.25


def _augment(x, gen):
    """Batch augmentation: rotation +-15 deg, scale +-15%, shift +-8%, brightness/contrast."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) - 0.5) * 0.52
    scale = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.3
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = torch.cos(angle) / scale
    theta[:, 0, 1], theta[:, 1, 0] = -torch.sin(angle) / scale, torch.sin(angle) / scale
    theta[:, :, 2] = (torch.rand(n, 2, generator=gen) - 0.5) * 0.16
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), padding_mode="border",
                      align_corners=False)
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.6
    return x * contrast + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.8


def fit_crop_cnn(crops: np.ndarray, labels: np.ndarray, sources: np.ndarray, classes: int, epochs: int,
                 per_source: int = 1500, seed: int = 0):
    """letters-cnn-64 on hand crops; each epoch draws at most `per_source` crops per source."""
    import torch

    from fingerspell.models import create_model

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = create_model("letters-cnn-64", classes)
    members = [np.flatnonzero(sources == s) for s in np.unique(sources)]
    per_epoch = sum(min(len(m), per_source) for m in members)
    steps = (per_epoch // 64 + 1) * epochs
    optimizer = torch.optim.AdamW(model.parameters(), 0.003, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.003, total_steps=steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    x, y = _to_tensor(crops), torch.as_tensor(labels)
    model.train()
    done = 0
    for _ in range(epochs):
        chosen = np.concatenate([rng.choice(m, per_source, replace=False) if len(m) > per_source else m
                                 for m in members])
        chosen = torch.as_tensor(chosen[rng.permutation(len(chosen))])
        for start in range(0, len(chosen), 64):
            batch = chosen[start:start + 64]
            if done >= steps or len(batch) < 2:
                continue
            loss = loss_fn(model(_augment(x[batch], gen)), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            done += 1
    model.eval()
    return model


def crop_probabilities(model, crops: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.concatenate([torch.softmax(model(_to_tensor(crops[i:i + 256])), 1).numpy()
                               for i in range(0, len(crops), 256)])


def run_protocol(name: str, sets: dict, crops: dict, epochs: int, log=print) -> dict:
    from fingerspell.evaluate import protocols as P

    if name == "massey-loso":
        home_set, classes = "massey", P.STATIC_LETTERS
        data = sets[home_set].letters(classes)
        tests = {signer: data.groups == signer for signer in sorted(set(data.groups) - {""})}
    else:
        home_set, classes = "asl-letters", P.LETTERS
        data = sets[home_set].letters(classes)
        groups = np.where(data.groups == "", np.arange(len(data)).astype(str), data.groups)
        tests = {f"fold{i + 1}": t for i, t in enumerate(P.grouped_folds(groups, 5, P.FULL_RECIPE.seed))}
    index = {c: i for i, c in enumerate(classes)}
    keep = np.isin(sets[home_set].labels, classes)
    home_crops = crops[home_set][keep]
    y = np.array([index[label] for label in data.labels])
    # The crop CNN also learns from the other image sets (never from the held-out fold).
    others = [n for n in ("massey", "asl-letters", "asl-alphabet") if n != home_set]
    extra_crops, extra_y, extra_src = [], [], []
    for other in others:
        mask = sets[other].found & np.isin(sets[other].labels, classes)
        extra_crops.append(crops[other][mask])
        extra_y.append(np.array([index[label] for label in sets[other].labels[mask]], dtype=np.int64))
        extra_src.append(np.full(mask.sum(), other))
    p_mlp = np.zeros((len(data), len(classes)), np.float32)
    p_cnn = np.zeros_like(p_mlp)
    for fold, test in tests.items():
        start = time.perf_counter()
        mlp = P.fit_landmark_model(data.subset(~test), classes, P.FULL_RECIPE)
        _, p_mlp[test] = P.predict_set(mlp, data.subset(test))
        train = ~test & data.found
        cnn = fit_crop_cnn(np.concatenate([home_crops[train], *extra_crops]),
                           np.concatenate([y[train], *extra_y]),
                           np.concatenate([np.full(train.sum(), home_set), *extra_src]), len(classes), epochs)
        p_cnn[test] = crop_probabilities(cnn, home_crops[test])
        right = {k: float(((p.argmax(1) == y[test]) & data.found[test]).mean())
                 for k, p in (("mlp", p_mlp[test]), ("cnn", p_cnn[test]), ("fused", _fuse(p_mlp[test], p_cnn[test], PRIOR_WEIGHT)))}
        log(f"  {name} {fold}: landmarks {right['mlp']:.2%}  crop CNN {right['cnn']:.2%}  "
            f"fused(w={PRIOR_WEIGHT}) {right['fused']:.2%}  ({time.perf_counter() - start:.0f} s)")

    def top1(p: np.ndarray) -> float:
        return float(((p.argmax(1) == y) & data.found).mean())

    def fold_mean(p: np.ndarray) -> float:
        return float(np.mean([((p[t].argmax(1) == y[t]) & data.found[t]).mean() for t in tests.values()]))

    def worst_static(p: np.ndarray) -> list:
        right = (p.argmax(1) == y) & data.found
        rates = {c: float(right[data.labels == c].mean()) for c in P.STATIC_LETTERS if (data.labels == c).any()}
        letter = min(rates, key=rates.get)
        return [letter, round(rates[letter], 4)]

    result = {"n": len(data), "no_hand_rate": round(float(1 - data.found.mean()), 4), "folds": list(tests)}
    for key, p in (("landmarks", p_mlp), ("crop_cnn", p_cnn), ("fused", _fuse(p_mlp, p_cnn, PRIOR_WEIGHT))):
        result[key] = {"top1": round(top1(p), 4), "mean_fold_top1": round(fold_mean(p), 4), "worst_static": worst_static(p)}
    result["fused"]["weight"] = PRIOR_WEIGHT
    result["sweep_on_test_folds"] = {str(w): round(top1(_fuse(p_mlp, p_cnn, w)), 4) for w in WEIGHTS}
    return result


def _fuse(p_mlp: np.ndarray, p_cnn: np.ndarray, weight: float) -> np.ndarray:
    return (1 - weight) * np.log(p_mlp + 1e-6) + weight * np.log(p_cnn + 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocols", nargs="+", default=["massey-loso", "asl-letters-grouped"],
                        choices=["massey-loso", "asl-letters-grouped"])
    parser.add_argument("--epochs", type=int, default=15, help="crop CNN epochs per fold (default 15)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "fusion.json")
    args = parser.parse_args()

    import torch

    from fingerspell.atomic import write_json
    from fingerspell.evaluate.accuracy_bench import BenchSettings, default_data_root, prepare_datasets

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    settings = BenchSettings(data_root=default_data_root(), out=args.out.parent, skip_image_models=True)
    sets, _ = prepare_datasets(settings)
    crops = {}
    for name in ("massey", "asl-letters", "asl-alphabet"):
        t = time.perf_counter()
        crops[name] = hand_crops(name, sets[name])
        print(f"{name}: {int(sets[name].found.sum())} hand crops in {time.perf_counter() - t:.0f} s", flush=True)
    results = {"crop": CROP, "epochs": args.epochs, "crop_model": "letters-cnn-64",
               "landmark_recipe": "FULL_RECIPE (as fingerspell bench accuracy)",
               "note": "sweep_on_test_folds picks w on the test folds: an upper bound, not a result"}
    for name in args.protocols:
        results[name] = run_protocol(name, sets, crops, args.epochs, log=lambda m: print(m, flush=True))
        r = results[name]
        print(f"{name}: landmarks {r['landmarks']['top1']:.2%} (worst {r['landmarks']['worst_static']}), "
              f"crop CNN {r['crop_cnn']['top1']:.2%}, fused {r['fused']['top1']:.2%} "
              f"(worst {r['fused']['worst_static']}); sweep {r['sweep_on_test_folds']}", flush=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_json(args.out, results)
    print(json.dumps({k: v for k, v in results.items() if isinstance(v, dict)}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
