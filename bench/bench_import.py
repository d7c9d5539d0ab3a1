"""Benchmark: how long `fingerspell data import` takes on the real Sign-MNIST CSVs.

Target (issue 2): the 27,455 + 7,172 rows in <= 10 s on 2 cores, with every row validated.
Imports into a throw-away FINGERSPELL_HOME, prints the figures and writes
bench/results/import.json. Also times the image-folder imports for reference.

    .venv/bin/python bench/bench_import.py [--repeat 3] [--datasets ../shared/datasets]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="imports of Sign-MNIST to time (median reported)")
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets",
                        help="folder holding sign-mnist/, asl-alphabet/, ... (default ../shared/datasets)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "import.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        os.environ["FINGERSPELL_HOME"] = home
        from fingerspell import atomic
        from fingerspell.data import import_dataset

        times = []
        for i in range(args.repeat):
            start = time.perf_counter()
            ds = import_dataset(args.datasets / "sign-mnist", name="sign-mnist", replace=True)
            times.append(time.perf_counter() - start)
            counts = {"train": ds.count("train"), "test": ds.count("test")}
            ds.close()
            print(f"sign-mnist import {i + 1}/{args.repeat}: {times[-1]:.2f} s ({counts['train']} train + {counts['test']} test)")
        others = {}
        for name in ("asl-alphabet", "massey", "asl-letters", "asl-landmarks"):
            if not (args.datasets / name).exists():
                continue
            start = time.perf_counter()
            ds = import_dataset(args.datasets / name, name=name, replace=True)
            others[name] = {"seconds": round(time.perf_counter() - start, 3), "samples": ds.count(), "format": ds.format}
            ds.close()
            print(f"{name} import: {others[name]['seconds']:.2f} s ({others[name]['samples']} samples, {ds.format})")

    median = statistics.median(times)
    rows = counts["train"] + counts["test"]
    result = {
        "benchmark": "sign-mnist import (parse + validate every row + write SQLite index)",
        "rows": rows, "splits": counts,
        "seconds_median": round(median, 3), "seconds_all": [round(t, 3) for t in times],
        "rows_per_second": round(rows / median), "target_seconds": TARGET_S, "meets_target": median <= TARGET_S,
        "other_imports": others,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
    }
    atomic.write_json(args.out, result)
    verdict = "meets" if median <= TARGET_S else "MISSES"
    print(f"sign-mnist: median {median:.2f} s for {rows} rows ({rows / median:,.0f} rows/s); {verdict} the {TARGET_S:.0f} s target")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
