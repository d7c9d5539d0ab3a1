"""`fingerspell` command line: a thin skin over the library.

Each command group lives in its own module with a `register(subparsers)` function that adds
its parser and sets `func` to a callable taking the parsed args and returning an exit code.
The library raises narrow `FingerspellError`s; here they become one `error: ...` line.
"""
from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType

from fingerspell.errors import FingerspellError


def command_modules() -> list[ModuleType]:
    """The modules under fingerspell.cli that add commands, in the order `--help` lists them.
    Imported by name (not from a list of strings), so a renamed module fails loudly."""
    from fingerspell.cli import (
        augment, bench, data, evaluate, export, live, models, predict, serve, train,
    )

    return [serve, data, models, augment, train, evaluate, export, predict, live, bench]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fingerspell",
        description="Recognise the ASL alphabet (fingerspelling): import and check datasets, "
        "train and evaluate models, export to ONNX, recognise letters in images, video and a webcam.",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"fingerspell {version('fingerspell')}"
    except PackageNotFoundError:
        return "fingerspell (not installed)"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except FingerspellError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `fingerspell ... | head` closed the pipe: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
