"""Benchmark: the fuzz suite (tests/fuzz) run long, with random seeds, and how many cases it tried.

CI runs each property with 100 derandomized examples (about a minute on 2 cores). This runs
`--examples` examples a property (default 2,000) with fresh random seeds, counts for every
importer, the query parser, bundle loading and the speller how many inputs were accepted and
how many refused with one error line, prints the table and writes bench/results/fuzz.json.
A failure prints hypothesis' shrunk example and exits non-zero.

    .venv/bin/python bench/bench_fuzz.py [--examples 2000] [-k yolo]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property (default 2000)")
    parser.add_argument("-k", default=None, help="only the properties matching this pytest -k expression")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "fuzz.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        counts_file = Path(tmp) / "counts.json"
        env = {**os.environ, "FINGERSPELL_FUZZ_PROFILE": "long", "FINGERSPELL_FUZZ_EXAMPLES": str(args.examples),
               "FINGERSPELL_FUZZ_COUNTS": str(counts_file)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz",
                   "-W", "ignore::hypothesis.errors.HypothesisWarning"] + (["-k", args.k] if args.k else [])
        start = time.perf_counter()
        code = subprocess.call(command, cwd=REPO, env=env)
        seconds = time.perf_counter() - start
        counts = json.loads(counts_file.read_text()) if counts_file.exists() else {}

    rows = {name: {"accepted": c.get("accepted", 0), "refused": c.get("refused", 0)}
            for name, c in sorted(counts.items()) if name != "speller-frames"}
    total = sum(r["accepted"] + r["refused"] for r in rows.values())
    print(f"\n{'property':<14} {'tried':>7} {'accepted':>9} {'refused (one error line)':>25}")
    for name, r in rows.items():
        print(f"{name:<14} {r['accepted'] + r['refused']:>7} {r['accepted']:>9} {r['refused']:>25}")
    print(f"{'all':<14} {total:>7}   in {seconds:.0f} s; pytest exit {code} ({'no failure' if code == 0 else 'FAILED'})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"examples_per_property": args.examples, "cases_tried": total, "seconds": round(seconds, 1),
                                    "passed": code == 0, "by_property": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return code


if __name__ == "__main__":
    sys.exit(main())
