"""`fingerspell data landmarks NAME`: detect hand landmarks for every sample, once."""
from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "landmarks",
        help="detect the hand's 21 landmarks in every sample (cached in the index)",
        description="Run the MediaPipe hand detector (with padding / rescaling / box-crop retries) "
        "over every sample of an imported dataset and store the landmarks in its index. Only "
        "samples that are new, changed, or were done with other detector settings are run, so a "
        "second call is instant. Prints the found rate overall and the worst letters.",
    )
    parser.add_argument("name", help="imported dataset name (see `fingerspell data list`)")
    parser.add_argument("--force", action="store_true", help="re-run every sample, ignoring the cache")
    parser.add_argument("--model-complexity", type=int, choices=(0, 1), default=1,
                        help="MediaPipe hand model: 0 lite (faster), 1 full (default, more accurate)")
    parser.add_argument("--min-detection-confidence", type=float, default=0.5,
                        help="palm-detector threshold of the first attempt (default 0.5)")
    parser.add_argument("--plain", action="store_true", help="no retries: MediaPipe as is (to compare)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes, each with its own detector (default: 2 for large runs)")
    parser.add_argument("--worst", type=int, default=5, help="how many worst letters to list (default 5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.hands.extract import extract_landmarks

    settings = {"model_complexity": args.model_complexity, "min_detection_confidence": args.min_detection_confidence,
                "robust": not args.plain}
    stats = extract_landmarks(args.name, progress=sys.stderr.isatty(), force=args.force,
                              detector_settings=settings, workers=args.workers)
    if stats.skipped:
        print(f"{stats.dataset}: {stats.skipped}")
    elif stats.computed:
        print(f"{stats.dataset}: detected {stats.computed} sample(s) in {stats.seconds:.1f} s "
              f"({stats.images_per_second:.1f} images/s); {stats.cached} already up to date")
    else:
        print(f"{stats.dataset}: all {stats.cached} sample(s) up to date (use --force to re-run)")
    print(f"hands found: {stats.found}/{stats.with_hand} = {100 * stats.rate:.2f}%")
    worst = stats.worst_letters(args.worst)
    if worst:
        print("worst letters: " + ", ".join(f"{label} {100 * rate:.1f}% ({f}/{t})" for label, rate, f, t in worst))
    if stats.methods:
        print("found by: " + ", ".join(f"{m} {n}" for m, n in stats.methods.items()))
    if stats.errors:
        print(f"{len(stats.errors)} unreadable sample(s), recorded as no hand:", file=sys.stderr)
        for line in stats.errors[:10]:
            print(f"  {line}", file=sys.stderr)
    return 0
