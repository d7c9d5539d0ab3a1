"""Folder throughput of `fingerspell predict FOLDER` per still-image path, as a user runs it.

    .venv/bin/python bench/bench_folder.py                          # 300 Massey photos, 2 workers, all paths
    .venv/bin/python bench/bench_folder.py --limit 60 --paths cascade

For each path (cascade = the default, fast = --fast, full = --full) it runs the CLI's library
call (`run_prediction`, the same process layout as `fingerspell predict FOLDER --workers N`)
on the first N photos spread over the letter folders, and prints and writes JSON
(bench/results/folder.json): images/s (wall clock, worker start-up included), CPU ms per
image (this process and its workers) and the images/s that CPU time allows on `--workers` free
cores (an estimate for a machine with nothing else running), the one
evaluation path's scores against the folder names (letters given right at the bundle's
threshold, top-1, coverage, ECE), the images the cascade escalated, and the load average
before and after (the machine is shared: read the figures with it).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from io import StringIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (the workers)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Folder throughput per still-image path (prints JSON).")
    parser.add_argument("--folder", type=Path, default=REPO.parent / "shared" / "datasets" / "massey" / "asl_dataset")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--paths", default="cascade,fast,full", help="comma-separated: cascade, fast, full")
    parser.add_argument("--model", default=None, help="bundle folder (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "folder.json")
    args = parser.parse_args(argv)

    from fingerspell.atomic import write_json
    from fingerspell.infer.batch import run_prediction

    results: dict = {"folder": str(args.folder), "limit": args.limit, "workers": args.workers, "cpus": os.cpu_count(),
                     "paths": {}}
    for path in [p.strip() for p in args.paths.split(",") if p.strip()]:
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        summary = run_prediction(str(args.folder), model=args.model, limit=args.limit, workers=args.workers,
                                 out=StringIO(), progress=False, still=path, report=args.out.parent / f"folder-{path}.csv")
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        score = summary.score.to_dict(curve=False) if summary.score is not None else {}
        results["paths"][path] = {
            "images": summary.items, "seconds": round(seconds, 2), "images_per_s": round(summary.items / seconds, 2),
            # CPU time of this process and its workers (start-up included): on a shared machine
            # the wall clock depends on the other jobs, the CPU per image much less.
            "cpu_ms_per_image": round(1000 * cpu / max(1, summary.items), 1),
            "images_per_s_if_cores_free": round(args.workers * summary.items / cpu, 1) if cpu else None,
            "escalated": summary.escalated, "letters_right": score.get("letters_right"), "top1": score.get("top1"),
            "coverage": score.get("coverage"), "ece": score.get("ece"), "threshold": score.get("threshold"),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
        }
        print(json.dumps({path: results["paths"][path]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, results)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
