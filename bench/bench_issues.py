"""Benchmark: how well `data issues` finds labels flipped at random, and detection mAP.

For each dataset and each flip seed (`--seeds`, default 0,1,2): flip `--share` (default 5%)
of the labels at random to another class present in the data, as recorded fixes (nothing is
lost; they are undone at the end), run the finder (grouped cross-validation, two rounds, the
margin rule of `evaluate/mislabels.py`), and report the precision and recall of the flipped
samples among the flagged label issues, the recall of the flips that are not inside an ASL
twin pair (V relabelled 2 cannot be seen), how often the suggested letter is the true one, the
best precision at recall >= 0.8 along the ranking by score, and Massey's precision counting
its 10 known mislabelled photos as right; then mean, spread and minimum over the seeds (the
issue's goal on Massey: precision >= 0.9 at recall >= 0.8). The rule was chosen on asl-letters
with seeds 100-102 (bench/issue_rule_selection.py), never on these runs. A run on the data as
it is (no flips; `--no-as-is` skips it) says what it flags there.

Detection (asl-letters has boxes): the shipped default bundle as a detector, COCO mAP via
pycocotools (`fingerspell eval --detection`), on `--detection-limit` images spread over the
set (0 = skip); and an unseen-photo figure from the same cross-validation: each image's cached
hand box with the letter of the fold model that never saw its source photo.

    .venv/bin/python bench/bench_issues.py                         # writes bench/results/issues.json
    FINGERSPELL_HOME=~/.fs-bench .venv/bin/python bench/bench_issues.py --datasets massey
        (reuses the landmarks cached there; a fresh home extracts them: ~2 min a dataset on 2 idle cores)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
FOLDERS = {"massey": "massey", "asl-letters": "asl-letters"}
# "massey-letters": Massey without its digits and the motion letters J, Z (removed as fixes for
# the run, then undone), as the accuracy protocols use it. Its digits share hand shapes with
# letters (V = 2, W = 6, O = 0), which no classifier can tell apart and so rank as label issues.
VARIANTS = {"massey-letters": "massey"}
FLIP_REASON = "bench_issues: flipped at random"


def _dataset(name: str):
    from fingerspell.data.importer import import_dataset
    from fingerspell.data.index import Dataset, dataset_names
    from fingerspell.hands.extract import extract_landmarks

    ds = Dataset.load(name) if name in dataset_names() else import_dataset(DATASETS / FOLDERS[name], name=name)
    stats = extract_landmarks(ds, progress=sys.stderr.isatty())
    print(f"{name}: {stats.total} samples, hands found {stats.rate:.2%} ({stats.computed} detected now)", flush=True)
    return ds


# Massey photos known to be mislabelled (README, by eye): hand2's `4` and `5` photos in diffuse
# light are swapped. Flagging them is right; the bench reports precision both counting them as
# wrong (the strict figure) and as right.
KNOWN_ERRORS = {"massey": ("hand2_4_dif_seg_", "hand2_5_dif_seg_")}


def _flip(ds, share: float, seed: int) -> dict[int, str]:
    """Relabel `share` of the samples to another class that occurs in the (not removed) data."""
    rng = np.random.default_rng(seed)
    samples = list(ds.samples())
    present = sorted({s.label for s in samples})
    chosen = rng.choice(len(samples), round(share * len(samples)), replace=False)
    flipped = {}
    for k in chosen:
        s = samples[k]
        ds.add_fix(s.id, "relabel", str(rng.choice([c for c in present if c != s.label])), FLIP_REASON)
        flipped[s.id] = s.label
    return flipped


def _undo_flips(ds) -> None:
    for fix in reversed(ds.fixes(include_undone=False)):
        if fix["reason"] == FLIP_REASON:
            ds.undo_fix(fix["id"])


def _ranking(oos, flipped: dict[int, str]) -> dict[str, float]:
    """Best precision at recall >= 0.8 (and the best recall at precision >= 0.9) when every sample
    with a hand is ranked by the finder's label score (1 - self-confidence, twins pooled)."""
    from fingerspell.evaluate.mislabels import flag_mislabels

    found = np.flatnonzero(oos.found)
    probs = oos.probs[found].astype(np.float64)
    result = flag_mislabels(oos.labels[found], probs / np.maximum(probs.sum(1, keepdims=True), 1e-12), oos.classes)
    order = found[np.argsort(-result.score, kind="stable")]
    hit = np.array([oos.samples[i].id in flipped for i in order])
    tp = np.cumsum(hit)
    precision = tp / np.arange(1, len(hit) + 1)
    recall = tp / max(1, len(flipped))
    at80 = precision[recall >= 0.8]
    at90 = recall[precision >= 0.9]
    return {"precision_at_recall_0.8": round(float(at80.max()), 4) if len(at80) else 0.0,
            "recall_at_precision_0.9": round(float(at90.max()), 4) if len(at90) else 0.0}


def measure(name: str, share: float, seeds: list[int], folds: int, models: int, as_is: bool) -> tuple[dict, object]:
    ds = _dataset(VARIANTS.get(name, name))
    removed = []
    if name == "massey-letters":
        removed = [ds.add_fix(s.id, "remove", None, "bench_issues: letters only") for s in list(ds.samples())
                   if not s.label.isalpha() or s.label in ("J", "Z")]
    try:
        return _measure(ds, name, share, seeds, folds, models, as_is)
    finally:
        for fix in reversed(removed):
            ds.undo_fix(fix)


def _flipped_run(ds, name: str, share: float, seed: int, folds: int, models: int) -> tuple[dict, object]:
    from fingerspell.evaluate.crossval import out_of_sample_probabilities
    from fingerspell.evaluate.issues import issues_from_probabilities
    from fingerspell.evaluate.mislabels import twin_groups

    flipped = _flip(ds, share, seed)
    try:
        t0 = time.perf_counter()
        oos = out_of_sample_probabilities(ds, folds=folds, seed=seed, models=models)
        report = issues_from_probabilities(oos)
        seconds = time.perf_counter() - t0
    finally:
        _undo_flips(ds)
    group = dict(zip(oos.classes, twin_groups(oos.classes)))
    flagged = {i.id: i for i in report.of_kind("label")}
    hits = set(flagged) & set(flipped)
    # A flip to the true label's twin (V relabelled 2) cannot be seen in a photo: counted apart.
    now = {s.id: s.label for s in oos.samples}
    detectable = {i for i, true in flipped.items() if group[true] != group[now[i]]}
    known = KNOWN_ERRORS.get(VARIANTS.get(name, name), ())
    known_flagged = {i for i, issue in flagged.items() if i not in flipped and any(k in issue.source for k in known)}
    run = {
        "seed": seed, "flipped": len(flipped), "within_twins": len(flipped) - len(detectable), "flagged": len(flagged),
        "true_positives": len(hits), "precision": round(len(hits) / max(1, len(flagged)), 4),
        "recall": round(len(hits) / max(1, len(flipped)), 4),
        "recall_detectable": round(len(hits & detectable) / max(1, len(detectable)), 4),
        "known_errors_flagged": len(known_flagged),
        "precision_known_errors_right": round((len(hits) + len(known_flagged)) / max(1, len(flagged)), 4),
        "suggested_true_letter": round(sum(flagged[i].suggested == flipped[i] for i in hits) / max(1, len(hits)), 4),
        "out_of_sample_top1": round(report.accuracy, 4), "seconds": round(seconds, 1), **_ranking(oos, flipped),
    }
    print(f"{name} seed {seed}: {run['flipped']} flipped ({run['within_twins']} within twins), "
          f"{run['flagged']} flagged:"
          f" precision {run['precision']:.3f}, recall {run['recall']:.3f} (detectable {run['recall_detectable']:.3f}),"
          f" true letter suggested {run['suggested_true_letter']:.1%}; ranking: precision "
          f"{run['precision_at_recall_0.8']:.3f} at recall 0.8; out-of-sample top-1 {run['out_of_sample_top1']:.1%};"
          f" {run['seconds']:.0f} s", flush=True)
    return run, oos


SUMMED = ("precision", "recall", "recall_detectable", "precision_known_errors_right", "suggested_true_letter",
          "precision_at_recall_0.8", "out_of_sample_top1")


def _measure(ds, name: str, share: float, seeds: list[int], folds: int, models: int, as_is: bool
             ) -> tuple[dict, object]:
    from fingerspell.evaluate.crossval import out_of_sample_probabilities
    from fingerspell.evaluate.issues import issues_from_probabilities

    result: dict = {"dataset": name, "samples": ds.count(), "share": share, "models_per_fold": models}
    clean_oos = None
    if as_is:
        t0 = time.perf_counter()
        clean_oos = out_of_sample_probabilities(ds, folds=folds, seed=seeds[0], models=models)
        clean = issues_from_probabilities(clean_oos)
        result["as_is"] = {"seconds": round(time.perf_counter() - t0, 1), "folds": clean.folds,
                           "out_of_sample_top1": round(clean.accuracy, 4), "counts": clean.counts(),
                           "top_label_issues": [i.to_dict() for i in clean.of_kind("label")[:20]]}
        print(f"{name} as it is: {clean.counts()} (out-of-sample top-1 {clean.accuracy:.1%})", flush=True)
    runs, oos = [], None
    for seed in seeds:
        run, oos = _flipped_run(ds, name, share, seed, folds, models)
        runs.append(run)
    result["runs"] = runs
    result["flipped"] = {key: {"mean": round(float(np.mean([r[key] for r in runs])), 4),
                               "std": round(float(np.std([r[key] for r in runs])), 4),
                               "min": round(float(np.min([r[key] for r in runs])), 4)} for key in SUMMED}
    result["flipped"].update(seeds=seeds, flipped=runs[0]["flipped"],
                             flagged=round(float(np.mean([r["flagged"] for r in runs])), 1))
    f = result["flipped"]
    print(f"{name} over seeds {seeds}: precision {f['precision']['mean']:.3f} +- {f['precision']['std']:.3f}, recall "
          f"{f['recall']['mean']:.3f} +- {f['recall']['std']:.3f}; ranking {f['precision_at_recall_0.8']['mean']:.3f}"
          f" at recall 0.8", flush=True)
    return result, clean_oos if clean_oos is not None else oos


def detection(ds_name: str, oos, limit: int, workers: int) -> dict:
    from fingerspell.data.index import Dataset
    from fingerspell.evaluate.detection import Detection, boxed_samples, evaluate_detection, score_detections
    from fingerspell.hands.extract import load_landmarks
    from fingerspell.infer import Predictor

    ds = Dataset.load(ds_name)
    out: dict = {}
    if oos is not None:
        rows = load_landmarks(ds)
        samples = boxed_samples(ds)
        position = {s.id: i for i, s in enumerate(oos.samples)}
        dets = []
        for s in samples:
            i, row = position.get(s.id), rows.get(s.id)
            if i is None or row is None or not row.found or row.box is None:
                dets.append(Detection(s.id, None, None, 0.0))
                continue
            k = int(oos.probs[i].argmax())
            dets.append(Detection(s.id, row.box, oos.classes[k], float(oos.probs[i, k])))
        cv = score_detections(ds, samples, dets, model="landmark-mlp, grouped cross-validation")
        out["cross_validated"] = {"images": cv.images, "map50": round(cv.map50, 4), "map50_95": round(cv.map50_95, 4),
                                  "letters_found": sum(r["found"] for r in cv.per_letter), "letters": len(cv.per_letter)}
        print(f"{ds_name} detection, unseen photos (fold models, cached boxes): mAP@0.5 {cv.map50:.3f}, "
              f"mAP@0.5:0.95 {cv.map50_95:.3f}", flush=True)
    if limit:
        t0 = time.perf_counter()
        with Predictor(None, conf=0.0) as predictor:
            report = evaluate_detection(ds, predictor, limit=limit, workers=workers)
        out["default_bundle"] = {"images": report.images, "map50": round(report.map50, 4),
                                 "map50_95": round(report.map50_95, 4), "no_hand": report.no_hand,
                                 "letters_found": sum(r["found"] for r in report.per_letter),
                                 "letters": len(report.per_letter), "per_letter": report.per_letter,
                                 "seconds": round(time.perf_counter() - t0, 1)}
        print(f"{ds_name} detection, default bundle (trained on these photos) on {report.images} images: "
              f"mAP@0.5 {report.map50:.3f}, mAP@0.5:0.95 {report.map50_95:.3f}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="massey,massey-letters,asl-letters",
                        help="comma-separated: massey, massey-letters, asl-letters")
    parser.add_argument("--share", type=float, default=0.05, help="share of labels flipped (default 0.05)")
    parser.add_argument("--seeds", default="0,1,2", help="flip / fold-model seeds, comma-separated (default 0,1,2)")
    parser.add_argument("--models", type=int, default=None,
                        help="fold models per fold (default: what `data issues` uses, crossval.LANDMARK_MODELS)")
    parser.add_argument("--no-as-is", action="store_true", help="skip the run on the data as it is")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--detection-limit", type=int, default=300,
                        help="asl-letters images scored with the default bundle (0 = skip, default 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "issues.json")
    args = parser.parse_args()
    temp = None
    if "FINGERSPELL_HOME" not in os.environ:
        temp = tempfile.TemporaryDirectory(prefix="fs-bench-issues-")
        os.environ["FINGERSPELL_HOME"] = temp.name
    from fingerspell import atomic
    from fingerspell.evaluate.crossval import LANDMARK_MODELS

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    models = args.models or LANDMARK_MODELS

    results: dict = {"datasets": {}}
    if args.out.is_file():  # keep the figures of datasets not run this time
        results = json.loads(args.out.read_text())
    for name in [n.strip() for n in args.datasets.split(",") if n.strip()]:
        if name not in FOLDERS and name not in VARIANTS:
            print(f"unknown dataset {name!r}; known: {', '.join([*FOLDERS, *VARIANTS])}", file=sys.stderr)
            return 2
        result, oos = measure(name, args.share, seeds, args.folds, models, not args.no_as_is)
        if name == "asl-letters":
            kept = results["datasets"].get(name, {}).get("detection", {})
            result["detection"] = {**kept, **detection(name, oos, args.detection_limit, args.workers)}
        results["datasets"][name] = result
        atomic.write_json(args.out, results)
    print(f"wrote {args.out}")
    if temp is not None:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
