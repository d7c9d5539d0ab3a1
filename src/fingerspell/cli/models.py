"""`fingerspell models`: list the registered model architectures."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list the model architectures you can train",
        description="List the registered models with their input kind, input size, channels and a description.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.models import get_model_spec, list_models

    specs = [get_model_spec(name) for name in list_models()]
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    width = max(len(s.name) for s in specs)
    print(f"{'model'.ljust(width)}  kind       input       description")
    for s in specs:
        size = "x".join(str(v) for v in s.input_size) + (f"x{s.channels}" if s.input_kind == "image" else " feats")
        print(f"{s.name.ljust(width)}  {s.input_kind.ljust(9)}  {size.ljust(10)}  {s.description}")
    return 0
