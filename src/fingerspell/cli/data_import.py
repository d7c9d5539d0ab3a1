"""`fingerspell data import|list|info|fix|export`: getting datasets in and out of the index.

Each subcommand is one library call (`import_dataset`, `list_datasets`, `dataset_info` +
`class_chart`, `Dataset.add_fix`/`undo_fix`, `export_dataset`); this module only parses
arguments and prints.
"""
from __future__ import annotations

import argparse
import json
import sys

from fingerspell.data.info import IMBALANCE_RATIO

FORMAT_CHOICES = ["auto", "sign-mnist", "folders", "yolo", "corners-csv", "coco", "landmarks"]
EXPORT_CHOICES = ["folders", "yolo", "corners-csv", "coco"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import", help="import a dataset (Sign-MNIST CSV, class folders, YOLO, corners CSV, COCO, landmarks .npz)",
        description="Read a dataset where it lies and write its index (one SQLite file in "
        "FINGERSPELL_HOME/datasets). The import is one transaction: on any error nothing is written "
        "and the message names the file and line.",
    )
    p.add_argument("path", help="file or folder to import (e.g. ../shared/datasets/sign-mnist)")
    p.add_argument("--format", default="auto", choices=FORMAT_CHOICES,
                   help="layout of PATH; auto (default) detects it and says what it chose")
    p.add_argument("--name", help="name of the new dataset (default: from PATH)")
    p.add_argument("--group-pattern", metavar="REGEX",
                   help="regular expression searched in each file name; its first group is the signer/group "
                   "(default: Massey hand<N> and Roboflow source-photo names)")
    p.add_argument("--replace", action="store_true", help="replace an existing dataset of that name")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("list", help="list imported datasets", description="List the datasets imported into FINGERSPELL_HOME/datasets with their format, "
                               "number of samples and classes, and splits.")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser(
        "info", help="counts by class, split and group, a class chart and an imbalance warning",
        description="Show what a dataset holds (fixes applied): samples per class, split and group "
        "(signer / source photo), boxes. Writes a class-distribution bar chart PNG (next to the "
        f"index, or --chart PATH) and warns when the largest class has more than {IMBALANCE_RATIO}x "
        "the samples of the smallest.",
    )
    p.add_argument("name", help="dataset name (see `fingerspell data list`)")
    p.add_argument("--chart", metavar="PNG", help="where to write the class chart (default: next to the index)")
    p.add_argument("--no-chart", action="store_true", help="do not write the chart")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_info)

    p = subparsers.add_parser(
        "fix", help="relabel, remove or delete a box (recorded, undoable; source files untouched)",
        description="Record a label fix in the index with its time and reason. Fixes apply to "
        "queries, training and export; the source files are never modified. Undo any fix later.",
    )
    p.add_argument("name", help="dataset name")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--relabel", metavar="ID=LETTER", help="give sample ID the label LETTER (e.g. 12=N)")
    action.add_argument("--remove", metavar="ID", type=int, help="leave sample ID out of everything")
    action.add_argument("--delete-box", metavar="ID:K", help="delete box K (0-based) of sample ID")
    action.add_argument("--undo", metavar="FIX_ID", nargs="?", type=int, const=-1,
                        help="undo fix FIX_ID, or the latest fix in force when no id is given")
    action.add_argument("--list", action="store_true", help="list the fixes (in force and undone)")
    p.add_argument("--reason", metavar="TEXT", help="why (kept with the fix)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_fix)

    p = subparsers.add_parser(
        "export", help="write the dataset, fixes applied, as folders, YOLO, corners CSV or COCO",
        description="Copy the dataset's images, fixes applied (relabelled, removed samples and "
        "deleted boxes honoured), into a new folder in the chosen layout. Splits become "
        "train/ valid/ test/ folders.",
    )
    p.add_argument("name", help="dataset name")
    p.add_argument("out", help="new (or empty) output folder")
    p.add_argument("--format", required=True, choices=EXPORT_CHOICES, help="layout to write")
    p.add_argument("--split", choices=["train", "val", "test"], help="export only this split")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    from fingerspell.data.importer import import_dataset

    ds = import_dataset(args.path, format=args.format, name=args.name, group_pattern=args.group_pattern,
                        replace=args.replace)
    with ds:
        summary = {
            "name": ds.name, "format": ds.format, "detected": ds.meta.get("detected"), "samples": ds.count(),
            "classes": ds.classes, "splits": {s: ds.count(s) for s in ds.splits()}, "index": str(ds.path),
            "notes": ds.meta.get("notes", []),
        }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    if summary["detected"]:
        print(summary["detected"])
    splits = ", ".join(f"{s} {n}" for s, n in summary["splits"].items())
    print(f"imported {summary['samples']} samples in {len(summary['classes'])} classes as {ds.name!r} "
          f"({ds.format}){f'; {splits}' if splits else ''}")
    for note in summary["notes"]:
        print(f"note: {note}")
    print(f"index: {summary['index']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from fingerspell.data.info import list_datasets

    rows = list_datasets()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no datasets yet; import one with `fingerspell data import PATH`")
        return 0
    print(f"{'name':<24} {'format':<12} {'samples':>8} {'classes':>7}  splits")
    for row in rows:
        if "error" in row:
            print(f"{row['name']:<24} error: {row['error']}")
            continue
        print(f"{row['name']:<24} {row['format']:<12} {row['samples']:>8} {row['classes']:>7}  "
              f"{', '.join(row['splits']) or '-'}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from fingerspell.data.index import Dataset
    from fingerspell.data.info import class_chart, dataset_info, default_chart_path

    with Dataset.load(args.name) as ds:
        info = dataset_info(ds)
        chart = None if args.no_chart else class_chart(info, args.chart or default_chart_path(ds))
    if args.json:
        print(json.dumps({**info.to_dict(), "chart": str(chart) if chart else None}, indent=2))
        return 0
    print(f"{info.name}: {info.samples} samples, {len(info.classes)} classes, format {info.format}")
    print(f"root: {info.root}")
    if info.boxes:
        print(f"boxes: {info.boxes} ({info.multi_box_images} image(s) with more than one)")
    if info.fixes_in_force:
        print(f"fixes in force: {info.fixes_in_force}")
    print("by split: " + ", ".join(f"{s} {n}" for s, n in info.by_split.items()))
    print("by class:")
    cells = [f"{c:>7} {n:>6}" for c, n in info.by_class.items()]
    for i in range(0, len(cells), 6):
        print("  " + "".join(cells[i:i + 6]))
    if info.by_group:
        groups = sorted(info.by_group.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{g} {n}" for g, n in groups[:12])
        more = f", ... ({len(groups)} groups)" if len(groups) > 12 else ""
        print(f"by group (signer / source photo): {shown}{more}")
    if chart:
        print(f"chart: {chart}")
    for warning in info.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _sample_id(text: str, what: str) -> int:
    from fingerspell.errors import FingerspellError

    try:
        return int(text)
    except ValueError:
        raise FingerspellError(f"{what}: sample id {text!r} is not a number") from None


def cmd_fix(args: argparse.Namespace) -> int:
    from fingerspell.data.formats import canonical_class
    from fingerspell.data.index import Dataset
    from fingerspell.errors import FingerspellError

    with Dataset.load(args.name) as ds:
        if args.list:
            fixes = ds.fixes()
            if args.json:
                print(json.dumps(fixes, indent=2))
            elif not fixes:
                print(f"{ds.name}: no fixes")
            for fix in [] if args.json else fixes:
                state = f"undone {fix['undone']}" if fix["undone"] else "in force"
                value = f" {fix['value']}" if fix["value"] is not None else ""
                reason = f" ({fix['reason']})" if fix["reason"] else ""
                print(f"fix {fix['id']}: sample {fix['sample_id']} {fix['action']}{value}{reason} "
                      f"at {fix['created']}, {state}")
            return 0
        if args.undo is not None:
            fix_id = ds.undo_fix(None if args.undo == -1 else args.undo)
            print(json.dumps({"undone": fix_id}) if args.json else f"undid fix {fix_id}")
            return 0
        if args.relabel:
            sample_text, sep, letter = args.relabel.partition("=")
            if not sep or not letter.strip():
                raise FingerspellError(f"--relabel {args.relabel!r}: expected ID=LETTER, e.g. 12=N")
            sample_id, action, value = _sample_id(sample_text, "--relabel"), "relabel", canonical_class(letter)
        elif args.remove is not None:
            sample_id, action, value = args.remove, "remove", None
        else:
            sample_text, sep, box = args.delete_box.partition(":")
            if not sep or not box.strip().isdigit():
                raise FingerspellError(f"--delete-box {args.delete_box!r}: expected ID:K, e.g. 12:1")
            sample_id, action, value = _sample_id(sample_text, "--delete-box"), "delete-box", box.strip()
        fix_id = ds.add_fix(sample_id, action, value, args.reason)
        sample = ds.sample(sample_id)
    if args.json:
        print(json.dumps({"fix": fix_id, "sample": sample_id, "action": action, "value": value,
                          "label": sample.label, "instances": sample.instances, "removed": sample.removed}))
    else:
        print(f"fix {fix_id}: sample {sample_id} ({sample.where}) {action}{f' {value}' if value else ''}; "
              f"now label {sample.label}, {sample.instances} box(es){', removed' if sample.removed else ''}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from fingerspell.data.export import export_dataset
    from fingerspell.data.index import Dataset

    with Dataset.load(args.name) as ds:
        result = export_dataset(ds, args.format, args.out, split=args.split)
    if args.json:
        print(json.dumps({"out": str(result.out), "format": result.format, "images": result.images,
                          "boxes": result.boxes, "by_split": result.by_split, "notes": result.notes}, indent=2))
        return 0
    parts = ", ".join(f"{s} {n}" for s, n in result.by_split.items())
    print(f"exported {result.images} images{f' and {result.boxes} boxes' if result.boxes else ''} "
          f"as {result.format} to {result.out} ({parts})")
    for note in result.notes:
        print(f"note: {note}")
    return 0
