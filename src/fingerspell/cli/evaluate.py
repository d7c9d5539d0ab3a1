"""`fingerspell eval`: score a trained run on a dataset split and write a report; or, with
`--detection`, score a bundle as a hand-and-letter detector on a dataset with boxes."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="evaluate a run on a dataset split and write report.html (or --detection: COCO mAP of a bundle)",
        description="Evaluate a trained run on a dataset split: top-1/top-5, per-letter precision/recall/F1, "
        "confusion matrix, most confused pairs, mistakes gallery, correct-at->=50%%-confidence table, reliability "
        "diagram with ECE, samples/s. Writes report.html, report.json and PNGs into <run>/eval-<data>-<split>/. "
        "With --detection: run a bundle (--model, default the shipped one) on every image of --data that has an "
        "annotated box and score its hand box + letter as detections (mAP@0.5, mAP@0.5:0.95, per-letter AP, "
        "letter found at >= 50%% confidence); writes detection.html and detection.json.")
    parser.add_argument("run", nargs="?", help="run name (under FINGERSPELL_HOME/runs) or folder (not with --detection)")
    parser.add_argument("--data", required=True, help="dataset name")
    parser.add_argument("--split", default="test", help="split to evaluate: train, val, test or all (default test)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="which checkpoint (default best)")
    parser.add_argument("--out", help="folder for the report (default <run>/eval-<data>-<split>; with --detection "
                        "FINGERSPELL_HOME/reports/detection-<data>-<bundle>)")
    parser.add_argument("--conf", type=float, default=0.5,
                        help="threshold: a letter counts as given at this probability or above (0.5); the report "
                        "gives letters given right, coverage and the coverage/accuracy curve")
    parser.add_argument("--json", action="store_true", help="print report.json to stdout")
    parser.add_argument("--detection", action="store_true",
                        help="score a bundle as a detector against the dataset's annotated boxes (COCO mAP)")
    parser.add_argument("--model", metavar="BUNDLE", default=None,
                        help="with --detection: bundle folder (default: the shipped default model)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="with --detection: score N boxed images spread evenly over the dataset (default all)")
    parser.add_argument("--workers", type=int, default=1, help="with --detection: processes (default 1)")
    path = parser.add_mutually_exclusive_group()
    path.add_argument("--fast", action="store_true",
                      help="with --detection: read every image as `predict --fast` does (one detection, no views)")
    path.add_argument("--full", action="store_true",
                      help="with --detection: read every image as `predict --full` does (views and refinement for "
                      "every image; the default is the cascade `predict` uses)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.errors import FingerspellError

    if args.detection:
        if args.run:
            raise FingerspellError("--detection scores a bundle (--model BUNDLE), not a run; drop the run name")
        return _run_detection(args)
    if args.fast or args.full:
        raise FingerspellError("--fast and --full choose how --detection reads images; a run is evaluated on its inputs")
    if not args.run:
        raise FingerspellError("name the run to evaluate (or pass --detection to score a bundle as a detector)")
    from fingerspell.evaluate.report import evaluate

    if not 0.0 <= args.conf <= 1.0:
        raise FingerspellError(f"--conf must be between 0 and 1, got {args.conf}")
    report = evaluate(args.run, args.data, args.split, args.out, which=args.checkpoint, progress=not args.json,
                      threshold=args.conf)
    print(report.to_json() if args.json else report.summary())
    return 0


# How the report says each image was read (boxes and scores differ by path: see `predict --help`).
STILL_NOTES = {
    "cascade": "Images read as `fingerspell predict` does by default: the fast path, and test-time views with "
               "refined landmarks only where its answer was uncertain.",
    "fast": "Images read with --fast: one hand detection each, no test-time views or landmark refinement.",
    "full": "Images read with --full: test-time views and refined landmarks for every image.",
}


def _run_detection(args: argparse.Namespace) -> int:
    import json

    from fingerspell import home
    from fingerspell.evaluate.detection import evaluate_detection, write_detection_report
    from fingerspell.infer import Predictor

    still = "fast" if args.fast else "full" if args.full else "cascade"
    with Predictor(args.model, conf=0.0, still=still) as predictor:
        report = evaluate_detection(args.data, predictor, limit=args.limit, workers=args.workers,
                                    progress=not args.json, note=STILL_NOTES[still])
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in report.model) or "bundle"
    out = args.out or home.home() / "reports" / f"detection-{args.data}-{safe}"
    write_detection_report(report, out)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0
