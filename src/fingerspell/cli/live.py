"""`fingerspell live`: webcam window with the hand, letter, top-5, spelled text and FPS."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "live", help="recognise and spell letters from a webcam in a window (q quits)",
        description="Open the camera and show the hand box, the letter, top-5 bars, the spelled text and the "
        "frame rate in a window; q quits. Needs an OpenCV build with a GUI and a display: with the headless "
        "build this project installs, use the browser app (`fingerspell serve --open`) or record the same view "
        "with `fingerspell predict 0 --save out.mp4`.",
        epilog="examples:\n  fingerspell live\n  fingerspell live --camera 1 --conf 0.7",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    parser.add_argument("--model", metavar="BUNDLE", help="bundle folder; default: the built-in model")
    parser.add_argument("--conf", type=float, default=0.5, help="smallest probability shown as a letter (0.5)")
    parser.add_argument("--classes", metavar="A,B", help="only consider these classes (comma separated)")
    parser.add_argument("--complexity", type=int, choices=[0, 1],
                        help="MediaPipe hand model: 0 lite (about twice as fast), 1 full; default: the bundle's")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.infer.live import run_live

    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    result = run_live(args.camera, model=args.model, conf=args.conf, classes=classes, complexity=args.complexity)
    print(f"text: {result['text']!r} ({result['frames']} frames at {result['fps']} fps)")
    return 0
