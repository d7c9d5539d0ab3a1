"""`fingerspell data query | check | split`: look into a dataset, check it, split it.

Each subcommand is one library call (fingerspell.data.query / check / split) plus printing.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

QUERY_EPILOG = """\
fields: id, label (letter), original_label, split, original_split, signer (group), width,
height, instances (boxes), source, row, hash, phash
operators: == != < <= > >= in (...) not in (...) contains startswith; and, or, not, ( );
strings in single or double quotes; null for a missing value (split == null).

examples:
  fingerspell data query massey 'label in ("M","N") and signer == "hand2"'
  fingerspell data query letters 'instances > 1' --sheet two-boxes.png
  fingerspell data query letters 'not split == "test"' --json --limit 20
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    q = subparsers.add_parser(
        "query", help="list the samples matching an expression (label == \"A\", instances > 1, ...)",
        description="List the samples of dataset NAME whose metadata matches EXPR, as a table or JSON; "
        "optionally draw them in a contact sheet PNG.",
        epilog=QUERY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("name", metavar="NAME", help="dataset name (see `fingerspell data list`)")
    q.add_argument("expr", metavar="EXPR", help='query expression, e.g. \'label == "A" and width < 100\'')
    q.add_argument("--json", action="store_true", help="print the matching samples as JSON")
    q.add_argument("--limit", type=int, default=None, metavar="N", help="print at most N samples (default: all)")
    q.add_argument("--sheet", metavar="OUT.png", default=None,
                   help="also write a contact sheet of the matching images (labels and boxes drawn)")
    q.add_argument("--sheet-max", type=int, default=100, metavar="N",
                   help="most thumbnails on the contact sheet (default 100; the sheet says how many more)")
    q.set_defaults(func=run_query)

    c = subparsers.add_parser(
        "check", help="find corrupt/missing images, bad boxes, unknown labels, duplicates and split leaks",
        description="Check dataset NAME: unreadable or corrupt images, missing files, boxes outside the image "
        "or empty, labels outside the class list, images with more than one box, exact duplicates (sha256) "
        "and near-duplicates (perceptual hash), and which duplicates sit on different splits (leaks). "
        "Exit code 1 when something serious (missing, corrupt, bad box, unknown label, leak) was found.",
    )
    c.add_argument("name", metavar="NAME", help="dataset name")
    c.add_argument("--json", action="store_true", help="print the full report as JSON")
    c.add_argument("--near-threshold", type=int, default=None, metavar="BITS",
                   help="Hamming distance (of 64 pHash bits) at or below which two images are near-duplicates "
                   "(default 4; higher finds looser look-alikes)")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.set_defaults(func=run_check)

    s = subparsers.add_parser(
        "split", help="assign train/val/test (random or by signer/photo group), or leave-one-group-out folds",
        description="Assign every sample of dataset NAME to train / val / test, stratified by label. "
        "--by group keeps each signer (Massey hand1..hand4) or source photo (asl-letters A0, B12, ...) on one "
        "side; with few groups (Massey's 4 signers) whole signers are assigned, so the fractions are only "
        "approximate. --loso instead writes one leave-one-group-out fold per group.",
    )
    s.add_argument("name", metavar="NAME", help="dataset name")
    s.add_argument("--by", choices=("random", "group"), default="random",
                   help="random: stratified random split; group: keep each signer/photo group on one side")
    s.add_argument("--val", type=float, default=0.15, help="validation fraction (default 0.15)")
    s.add_argument("--test", type=float, default=0.15, help="test fraction (default 0.15)")
    s.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same split")
    s.add_argument("--per-class", type=int, default=None, metavar="N",
                   help="use only N random samples per class (the others get no split)")
    s.add_argument("--keep-test", action="store_true",
                   help="keep the download's own test split (Sign-MNIST's test CSV) and cut only train/val from the rest")
    s.add_argument("--loso", action="store_true",
                   help="write leave-one-group-out folds (one per signer/group) instead of a split")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.set_defaults(func=run_split)


def _sample_dict(sample: Any) -> dict[str, Any]:
    return {
        "id": sample.id, "source": sample.source, "row": sample.row, "label": sample.label,
        "original_label": sample.original_label, "split": sample.split, "original_split": sample.original_split,
        "signer": sample.signer, "width": sample.width, "height": sample.height, "instances": sample.instances,
        "boxes": [b.as_list() for b in sample.boxes], "hash": sample.hash,
    }


def _table(samples: list[Any]) -> str:
    headers = ("id", "label", "split", "signer", "size", "instances", "source")
    rows = [
        (str(s.id), s.label, s.split or "-", s.signer or "-",
         f"{s.width}x{s.height}" if s.width is not None else "-", str(s.instances), s.where)
        for s in samples
    ]
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def run_query(args: argparse.Namespace) -> int:
    from fingerspell.data import Dataset
    from fingerspell.data.query import compile_query, count, query
    from fingerspell.errors import FingerspellError

    if args.limit is not None and args.limit < 0:
        raise FingerspellError(f"--limit must be 0 or more, got {args.limit}")
    compile_query(args.expr)  # syntax errors before opening anything
    with Dataset.load(args.name) as ds:
        total = count(ds, args.expr)
        samples = query(ds, args.expr, limit=args.limit)
        if args.json:
            print(json.dumps({"dataset": ds.name, "query": args.expr, "total": total,
                              "samples": [_sample_dict(s) for s in samples]}, indent=2))
        else:
            print(_table(samples))
            more = f" ({len(samples)} shown)" if len(samples) < total else ""
            print(f"{total} of {ds.count()} samples match{more}")
        if args.sheet:
            from fingerspell.data.sheet import contact_sheet

            sql, params = compile_query(args.expr)
            # streamed: the sheet only keeps the first --sheet-max samples and counts the rest
            info = contact_sheet(ds, ds.samples(where=sql, params=params), args.sheet,
                                 limit=args.sheet_max, title=args.expr)
            msg = f"contact sheet: {info.path} ({info.shown} images" + (f", {info.more} more not shown)" if info.more else ")")
            print(msg, file=sys.stderr if args.json else sys.stdout)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from fingerspell.data import Dataset
    from fingerspell.data.check import DEFAULT_NEAR_THRESHOLD, check

    threshold = DEFAULT_NEAR_THRESHOLD if args.near_threshold is None else args.near_threshold
    with Dataset.load(args.name) as ds:
        report = check(ds, near_threshold=threshold, progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.summary())
    return 0 if report.ok else 1


def run_split(args: argparse.Namespace) -> int:
    from fingerspell.data import Dataset
    from fingerspell.data.split import loso_folds, split_dataset

    with Dataset.load(args.name) as ds:
        if args.loso:
            folds = loso_folds(ds)
            if args.json:
                print(json.dumps({"dataset": ds.name, "folds": [f.__dict__ for f in folds]}, indent=2))
            else:
                print(f"dataset {ds.name!r}: {len(folds)} leave-one-group-out folds written")
                for f in folds:
                    print(f"  fold {f.name:<10} test {f.test:>6}  train {f.train:>6}  classes in test {f.test_classes}")
            return 0
        summary = split_dataset(ds, by=args.by, val=args.val, test=args.test, seed=args.seed,
                                per_class=args.per_class, keep_test=args.keep_test)
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary.summary())
    return 0
