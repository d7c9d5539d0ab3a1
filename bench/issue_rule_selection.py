"""How `data issues` chose its flagging rule and its fold models: candidate rules on flipped labels.

Choosing the rule on the data whose figures are reported would flatter them, so the rule was
chosen on asl-letters (never on Massey) with flip seeds 100-102 (bench_issues.py reports seeds
0-2): for each seed, 5% of the labels are flipped at random in memory (the dataset is not
touched), the grouped fold models of `crossval` (same model, steps and folds) give
out-of-sample probabilities, and every candidate rule's precision and recall of the flipped
samples are printed, mean and spread over the seeds. Configurations: `e1` one model per fold,
`e3` three averaged, `r2` a second round fitted without round 1's likely errors
(`mislabels.likely_errors`). The criterion, fixed before looking: the highest mean precision
at mean recall >= 0.8.

    FINGERSPELL_HOME=... .venv/bin/python bench/issue_rule_selection.py asl-letters --seeds 100,101,102 --config r2
        (needs `fingerspell data landmarks asl-letters` done in that home; ~2-5 min a seed on 2 busy cores)
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _data(name: str):
    from fingerspell.data.index import Dataset
    from fingerspell.evaluate.landmark_sets import landmark_set_of

    ds = Dataset.load(name)
    samples = list(ds.samples())
    data = landmark_set_of(ds, samples, [s.label for s in samples])
    features = np.zeros((len(samples), data.features().shape[1]), np.float32)
    features[data.found] = data.features()
    index = {c: i for i, c in enumerate(ds.classes)}
    return (features, np.array([index[s.label] for s in samples]), [s.signer or "" for s in samples], data.found,
            list(ds.classes))


def _flip(labels: np.ndarray, classes: int, share: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    for k in rng.choice(len(labels), round(share * len(labels)), replace=False):
        noisy[k] = rng.choice([c for c in range(classes) if c != labels[k]])
    return noisy


def _rules(labels: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    """Candidate rules -> flagged mask (samples with a hand; labels 0..K-1 all present)."""
    from cleanlab.count import num_label_issues
    from cleanlab.filter import find_label_issues

    given = probs[np.arange(len(labels)), labels]
    best = probs.max(1)
    disagrees = probs.argmax(1) != labels
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for how in ("confident_learning", "prune_by_noise_rate", "both", "low_self_confidence",
                    "low_normalized_margin"):
            out[f"cleanlab {how}"] = find_label_issues(labels, probs, filter_by=how, n_jobs=1) & disagrees
        order = np.argsort(given, kind="stable")
        for method in ("off_diagonal", "off_diagonal_calibrated"):
            count = num_label_issues(labels, probs, estimation_method=method)
            for share in (0.8, 0.9, 1.0):
                mask = np.zeros(len(labels), bool)
                mask[order[:int(round(share * count))]] = True
                out[f"lowest {share} x cleanlab {method} count"] = mask & disagrees
    for margin in (0.4, 0.5, 0.6, 0.7, 0.8):
        out[f"best - given > {margin}"] = disagrees & (best - given > margin)
    for below in (0.01, 0.02, 0.05, 0.1, 0.2):
        out[f"given < {below}"] = disagrees & (given < below)
    return out


def main() -> int:
    from fingerspell.evaluate.crossval import LANDMARK_STEPS, group_folds, landmark_fold_probabilities

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--config", default="r2", choices=["e1", "e3", "r2"])
    parser.add_argument("--share", type=float, default=0.05)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    features, labels, groups, found, classes = _data(args.dataset)
    fold = group_folds(groups, 5, 0)
    table: dict[str, list[tuple[float, float]]] = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        noisy = _flip(labels, len(classes), args.share, seed)
        probs = landmark_fold_probabilities(features, noisy, found, fold, "landmark-mlp", len(classes), LANDMARK_STEPS,
                                            models=3 if args.config == "e3" else 1,
                                            rounds=2 if args.config == "r2" else 1)
        keep = np.flatnonzero(found)
        present, given = np.unique(noisy[keep], return_inverse=True)
        p = probs[np.ix_(keep, present)].astype(np.float64)
        p /= p.sum(1, keepdims=True)
        flipped = noisy != labels
        for rule, mask in _rules(given, p).items():
            hits = int((mask & flipped[keep]).sum())
            table.setdefault(rule, []).append((hits / max(1, int(mask.sum())), hits / max(1, int(flipped.sum()))))
        print(f"seed {seed}: out-of-sample top-1 against the true labels "
              f"{(probs[keep].argmax(1) == labels[keep]).mean():.3f}", flush=True)
    print(f"{args.dataset}, config {args.config}, seeds {args.seeds}: precision / recall of the flipped samples")
    for rule, values in table.items():
        v = np.array(values)
        print(f"  {rule:44s} precision {v[:, 0].mean():.3f} +- {v[:, 0].std():.3f}  "
              f"recall {v[:, 1].mean():.3f} +- {v[:, 1].std():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
