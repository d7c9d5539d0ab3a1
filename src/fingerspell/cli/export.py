"""`fingerspell export`: a trained run -> a model bundle (single-file ONNX + bundle.json)."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trained run to an ONNX model bundle, checked against PyTorch",
        description="Export a run's best checkpoint to a bundle folder: model.onnx (one file, no external "
        "data) and bundle.json (labels, input spec, normalisation, hand-detector settings, version, "
        "measured numbers). The export is checked against PyTorch on the run's evaluation split "
        "(max abs difference <= 1e-4 and identical top-1) and refused otherwise. With --quantize int8 "
        "the bundle holds an int8 dynamically quantised model and the accuracy change is reported. A recipe run "
        "(`train --recipe`) exports the bundle its recipe describes (test-time views, tracking model), checked on "
        "its training samples; re-exporting the same model into a bundle folder keeps its calibration, spelling "
        "and benchmarks.",
        epilog="examples:\n  fingerspell export letters-cnn_sign-mnist_e12_ssr+bc\n"
               "  fingerspell export RUN --quantize int8 --out my-bundle\n"
               "  fingerspell export default --out src/fingerspell/models/default   # after train --recipe recipes/default.yaml\n"
               "  fingerspell predict photo.jpg --model my-bundle",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="run name (under FINGERSPELL_HOME/runs) or run folder")
    parser.add_argument("--format", default="onnx", choices=["onnx"], help="export format (onnx)")
    parser.add_argument("--quantize", choices=["int8"], help="store an int8 dynamically quantised model")
    parser.add_argument("--out", metavar="DIR", help="bundle folder (default FINGERSPELL_HOME/models/<run>)")
    parser.add_argument("--checkpoint", default="best", choices=["best", "last"], help="which checkpoint to export")
    parser.add_argument("--crop", default="hand", choices=["hand", "center"],
                        help="image models: feed a square around the detected hand (default) or the frame's centre")
    parser.add_argument("--max-samples", type=int, default=2000,
                        help="evaluation samples used for the parity check (default 2000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.export.onnx import export_run

    export_run(args.run, out=args.out, quantize=args.quantize == "int8", which=args.checkpoint,
               max_samples=args.max_samples, crop=args.crop)
    return 0
