"""`fingerspell data ...`: import, inspect, check, fix, split and export datasets.

The subcommands live in sibling modules (one job each); this module only makes the group.
"""
from __future__ import annotations

import argparse
import importlib

# Modules adding `data` subcommands, each with `register(data_subparsers)`.
DATA_COMMAND_MODULES = ["data_import", "data_inspect", "data_landmarks", "data_issues"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="import, inspect, query, check, fix, split and export datasets",
        description="Import ASL letter datasets in the formats people download them in, then "
        "look at them, check them, fix labels (originals kept) and split them.",
    )
    data_subparsers = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    for name in DATA_COMMAND_MODULES:
        try:
            module = importlib.import_module(f"fingerspell.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"fingerspell.cli.{name}":
                continue
            raise
        module.register(data_subparsers)
