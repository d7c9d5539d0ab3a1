"""`make bench`: run every benchmark in turn; each prints its figures and writes
bench/results/<name>.json. Benchmarks are not tests: they measure speed and accuracy
against the targets in the issues and never fail the build.

    .venv/bin/python bench/run_all.py              # everything (about an hour and a half on 2 cores)
    .venv/bin/python bench/run_all.py import check # only these
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# name -> arguments; in order of how long they take.
BENCHMARKS = {
    "import": ["bench_import.py"],
    "check": ["bench_check.py"],
    "fuzz": ["bench_fuzz.py"],
    "latency": ["bench_latency.py"],
    "live": ["bench_live.py"],  # the live page in headless Chromium (needs /usr/bin/chromium)
    "spelling": ["bench_spelling.py"],  # about 1 min (plus 2 min once to find the Massey hands)
    "hands": ["bench_hands.py", "--workers", "2"],
    "train": ["bench_train.py", "--mode", "all"],
    "accuracy": ["-m", "fingerspell", "bench", "accuracy"],
    "fusion": ["bench_fusion.py"],  # needs the indexes `accuracy` builds; about 20 min
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names or list(BENCHMARKS):
        args = BENCHMARKS[name]
        command = [sys.executable] + ([str(BENCH / args[0])] + args[1:] if args[0].endswith(".py") else args)
        print(f"\n=== bench {name}: {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(command, cwd=BENCH.parent)
        print(f"=== bench {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"benchmarks that did not finish: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
