"""`fingerspell bench ...`: fixed benchmarks that print and write JSON + Markdown."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run fixed benchmarks (accuracy on unseen signers and photos)",
        description="Run the project's fixed benchmark protocols and write their results as JSON and Markdown.",
    )
    bench_subparsers = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    accuracy = bench_subparsers.add_parser(
        "accuracy",
        help="accuracy protocols: Massey leave-one-signer-out, asl-letters by photo, cross-dataset, Sign-MNIST",
        description="Train and test the landmark classifier on fixed protocols that hold out whole signers, "
        "photos or datasets; images where no hand is found count as wrong. Also trains an image model "
        "on Sign-MNIST. Writes accuracy.json and accuracy.md.",
    )
    accuracy.add_argument("--quick", action="store_true",
                          help="small real subsets and few epochs (CI: under 3 minutes on 2 cores); not the real numbers")
    accuracy.add_argument("--out", type=Path, default=None,
                          help="folder for accuracy.json and accuracy.md (default bench/results, quick: bench/results/quick)")
    accuracy.add_argument("--data-root", type=Path, default=None,
                          help="the shared datasets folder (default $FINGERSPELL_SHARED_DATASETS or ../shared/datasets)")
    accuracy.add_argument("--epochs", type=int, default=None, help="landmark model epochs (default 40, quick 12)")
    accuracy.add_argument("--no-image-models", action="store_true", help="skip the Sign-MNIST image-model run")
    accuracy.set_defaults(func=_accuracy)


def _accuracy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from fingerspell.evaluate.accuracy_bench import BenchSettings, default_data_root, run_accuracy_bench

    out = args.out or Path("bench") / "results" / ("quick" if args.quick else "")
    from fingerspell.export.bundle import Bundle
    from fingerspell.home import default_bundle_dir

    # Answers are scored as the default bundle reads still images: its full-path temperature
    # and default threshold (bundle.json "still").
    still = Bundle.load(default_bundle_dir()).still
    settings = BenchSettings(data_root=args.data_root or default_data_root(), out=out, quick=args.quick,
                             skip_image_models=args.no_image_models, answer_temperature=still.temperature_full,
                             answer_threshold=still.threshold)
    if args.epochs:
        settings.recipe = replace(settings.effective_recipe, epochs=args.epochs)
    run_accuracy_bench(settings)
    print((out / "accuracy.md").read_text())
    print(f"wrote {out / 'accuracy.json'} and {out / 'accuracy.md'}")
    return 0
