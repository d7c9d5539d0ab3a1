"""`fingerspell data issues NAME`: likely mislabels, outliers and near duplicates (cleanlab)."""
from __future__ import annotations

import argparse
import json
import sys

EPILOG = """\
examples:
  fingerspell data issues massey                      # cross-validate, rank, save, draw the top 40
  fingerspell data issues massey --json               # {"issues": [{"id", "kind", "score", "suggested"}, ...]}
  fingerspell data issues massey --apply 812,1045     # take these suggestions (from the saved run) as fixes
  fingerspell data issues massey --accept-top 10      # relabel the 10 most likely label errors
  fingerspell data fix massey --undo                  # take the last fix back
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "issues", help="find likely mislabels, outliers and near duplicates (cleanlab, out-of-sample models)",
        description="Fit a model on all but one fold of dataset NAME (whole signers / source photos held out "
        "together) and predict the held-out fold, for every fold; then cleanlab ranks the samples whose label "
        "the models disagree with (with the letter they suggest), samples unlike any other, and near duplicates. "
        "Saves the result in FINGERSPELL_HOME/issues/NAME/ and draws a contact sheet of the top ones. "
        "--apply / --accept-top turn suggestions of the saved result into recorded, undoable fixes.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="dataset name (see `fingerspell data list`)")
    parser.add_argument("--model", default="landmark-mlp",
                        help="landmark-mlp (default; needs `fingerspell data landmarks NAME`) or an image model "
                        "such as letters-cnn-64")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5; fewer when the "
                        "data has fewer signers / groups)")
    parser.add_argument("--models", type=int, default=None, metavar="N",
                        help="landmark models fitted per fold, their probabilities averaged (default 1; each one "
                        "more costs the time of one more cross-validation)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and the models (default 0)")
    parser.add_argument("--json", action="store_true", help='print {"issues": [...]} as JSON')
    parser.add_argument("--top", type=int, default=20, help="issues printed without --json (default 20)")
    parser.add_argument("--sheet", metavar="OUT.png", default=None,
                        help="contact sheet path (default FINGERSPELL_HOME/issues/NAME/issues.png)")
    parser.add_argument("--sheet-max", type=int, default=40, metavar="N", help="issues on the sheet (default 40)")
    parser.add_argument("--apply", metavar="ID[,ID...]", default=None,
                        help="take the suggestions of these sample ids from the last saved run: relabel label "
                        "errors, remove outliers and duplicates (recorded fixes; undo with `data fix NAME --undo`)")
    parser.add_argument("--accept-top", type=int, default=None, metavar="K",
                        help="relabel the K most likely label errors of the last saved run")
    parser.set_defaults(func=run)


def _ids(text: str) -> list[int]:
    from fingerspell.errors import FingerspellError

    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise FingerspellError(f"--apply takes sample ids separated by commas, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from fingerspell.evaluate import issues as I

    if args.apply is not None or args.accept_top is not None:
        report = I.load_report(args.name)
        ids = _ids(args.apply) if args.apply is not None else I.top_label_ids(report, args.accept_top)
        applied = I.apply_issues(args.name, report, ids)
        if args.json:
            print(json.dumps({"fixes": applied.fixes, "skipped": {str(k): v for k, v in applied.skipped.items()}}))
        else:
            print(f"{args.name}: {len(applied.fixes)} fix(es) recorded"
                  + (f" (ids {', '.join(map(str, applied.fixes))}); undo with `fingerspell data fix {args.name} --undo`"
                     if applied.fixes else ""))
            for sample_id, why in applied.skipped.items():
                print(f"  skipped {sample_id}: {why}", file=sys.stderr)
        return 0 if applied.fixes or not applied.skipped else 1

    say = None if args.json else (lambda line: print(line, file=sys.stderr))
    report = I.find_issues(args.name, model=args.model, folds=args.folds, seed=args.seed, progress=say,
                           models=args.models)
    if report.issues:
        report.sheet = str(I.write_sheet(args.name, report, args.sheet, limit=args.sheet_max))
    I.save_report(report)
    if args.json:
        print(json.dumps({"dataset": report.dataset, "accuracy": round(report.accuracy, 4), "counts": report.counts(),
                          "sheet": report.sheet, "issues": [i.to_dict() for i in report.issues]}))
    else:
        print(report.summary(args.top))
    return 0
