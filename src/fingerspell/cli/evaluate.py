"""`fingerspell eval`: score a trained run on a dataset split and write a report."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="evaluate a run on a dataset split and write report.html",
        description="Evaluate a trained run on a dataset split: top-1/top-5, per-letter precision/recall/F1, "
        "confusion matrix, most confused pairs, mistakes gallery, correct-at->=50%%-confidence table, reliability "
        "diagram with ECE, samples/s. Writes report.html, report.json and PNGs into <run>/eval-<data>-<split>/.")
    parser.add_argument("run", help="run name (under FINGERSPELL_HOME/runs) or folder")
    parser.add_argument("--data", required=True, help="dataset name")
    parser.add_argument("--split", default="test", help="split to evaluate: train, val, test or all (default test)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="which checkpoint (default best)")
    parser.add_argument("--out", help="folder for the report (default <run>/eval-<data>-<split>)")
    parser.add_argument("--json", action="store_true", help="print report.json to stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.evaluate.report import evaluate

    report = evaluate(args.run, args.data, args.split, args.out, which=args.checkpoint, progress=not args.json)
    print(report.to_json() if args.json else report.summary())
    return 0
