"""Benchmark: `data check` (near-duplicate search) over the full asl-alphabet set.

Imports ../shared/datasets/asl-alphabet (5,800 JPEGs, 29 classes) into a temporary
FINGERSPELL_HOME, then times a cold check (every image read, decoded and pHashed, candidates
grouped by hash bands) and a warm re-check (perceptual hashes reused from the index).
Target: cold check <= 60 s on 2 cores. Also, on asl-letters, counts duplicate pairs that leak
across splits under a random split versus a split grouped by source photo.

    .venv/bin/python bench/bench_check.py                    # writes bench/results/check.json
    .venv/bin/python bench/bench_check.py --near-threshold 4
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--near-threshold", type=int, default=None, help="pHash Hamming threshold (default: the library's)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "check.json")
    parser.add_argument("--skip-letters", action="store_true", help="skip the asl-letters leak comparison")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fs-bench-check-") as home:
        os.environ["FINGERSPELL_HOME"] = home
        from fingerspell import atomic
        from fingerspell.data.check import DEFAULT_NEAR_THRESHOLD, check
        from fingerspell.data.importer import import_dataset
        from fingerspell.data.split import split_dataset

        threshold = DEFAULT_NEAR_THRESHOLD if args.near_threshold is None else args.near_threshold
        t0 = time.perf_counter()
        ds = import_dataset(DATASETS / "asl-alphabet", name="asl-alphabet")
        import_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        cold = check(ds, near_threshold=threshold, progress=True)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = check(ds, near_threshold=threshold, progress=False)
        warm_s = time.perf_counter() - t0
        counts = cold.counts()
        n = cold.samples
        near_within_class = sum(1 for p in cold.near_pairs if ds.sample(p.a).label == ds.sample(p.b).label)
        result = {
            "dataset": "asl-alphabet",
            "images": n,
            "classes": len(ds.classes),
            "near_threshold": threshold,
            "import_s": round(import_s, 2),
            "check_cold_s": round(cold_s, 2),
            "check_warm_s": round(warm_s, 2),
            "images_per_s_cold": round(n / cold_s, 1),
            "target_s": TARGET_S,
            "meets_target": cold_s <= TARGET_S,
            "hashed_cold": cold.hashed,
            "hashed_warm": warm.hashed,
            "exact_duplicate_groups": counts["exact-duplicate-groups"],
            "near_duplicate_pairs": counts["near-duplicate-pairs"],
            "near_pairs_same_class": near_within_class,
            "all_pairs": n * (n - 1) // 2,
            "problems": {k: v for k, v in counts.items() if k in ("missing", "corrupt", "box-outside", "box-empty", "unknown-label", "multi-box")},
            "cpu_count": os.cpu_count(),
        }
        ds.close()

        if not args.skip_letters:
            letters = import_dataset(DATASETS / "asl-letters", format="yolo", name="asl-letters")
            leaks = {}
            for by in ("random", "group"):
                split_dataset(letters, by=by, val=0.15, test=0.15, seed=0)
                report = check(letters, near_threshold=threshold, progress=False)
                leaks[by] = {"leak_pairs": len(report.leaks), "exact": sum(1 for p in report.leaks if p.kind == "exact"),
                             "by_split": report.leak_counts()}
            result["asl_letters_leaks"] = {"images": letters.count(), "near_threshold": threshold, **leaks}
            letters.close()

    print(f"asl-alphabet: {n} images, import {import_s:.1f} s, check cold {cold_s:.1f} s "
          f"({n / cold_s:.0f} img/s; target <= {TARGET_S:.0f} s: {'met' if cold_s <= TARGET_S else 'MISSED'}), "
          f"warm re-check {warm_s:.2f} s")
    print(f"  near-duplicate pairs (pHash distance <= {threshold}): {counts['near-duplicate-pairs']} "
          f"({near_within_class} within a class) of {n * (n - 1) // 2} pairs; exact duplicate groups: "
          f"{counts['exact-duplicate-groups']}")
    if "asl_letters_leaks" in result:
        lk = result["asl_letters_leaks"]
        print(f"asl-letters ({lk['images']} images): duplicate pairs across splits -- random split "
              f"{lk['random']['leak_pairs']}, grouped by source photo {lk['group']['leak_pairs']}")
    atomic.write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
