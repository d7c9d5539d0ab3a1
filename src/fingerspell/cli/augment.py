"""`fingerspell augment preview`: see what the augmentations do before training."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "augment", help="preview training augmentations",
        description="Look at augmentations before training with them.")
    sub = parser.add_subparsers(dest="augment_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    preview = sub.add_parser(
        "preview", help="draw a grid of originals and augmented copies",
        description="Draw a PNG grid: each row one training sample, the original then augmented copies, "
        "prepared as the model sees them (hand crop, input size, channels).")
    preview.add_argument("--data", required=True, help="dataset name (see `fingerspell data list`)")
    preview.add_argument("--config", help="YAML file with training keys (augment.* probabilities)")
    preview.add_argument("--model", help="model whose input size and channels to use (default: by image size)")
    preview.add_argument("--out", default="augment-preview.png", help="PNG to write (default augment-preview.png)")
    preview.add_argument("--samples", type=int, default=6, help="rows: how many samples (default 6)")
    preview.add_argument("--copies", type=int, default=5, help="augmented copies per sample (default 5)")
    preview.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. augment.hflip=0.5")
    preview.set_defaults(func=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    from fingerspell.train.preview import preview_augmentations

    path = preview_augmentations(args.data, args.config, args.out, model=args.model, samples=args.samples,
                                 copies=args.copies, overrides=args.overrides)
    print(f"wrote {path}")
    return 0
