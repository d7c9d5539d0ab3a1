"""`fingerspell predict`: letters in an image, a folder, a glob, a video or a camera."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict", help="recognise letters in images, folders, globs, videos or a camera",
        description="Recognise ASL letters with a model bundle (default: the one shipped with fingerspell). "
        "SOURCE is an image, a folder (searched recursively), a glob ('photos/*.jpg'), a video file or a "
        "camera index (0). Images print one line each and a summary (with the accuracy against folder names "
        "when the folders are named after letters); folders and videos also write a CSV report (or JSON with "
        "--report x.json). Videos and cameras are tracked, smoothed (no flicker) and spelled into text: a held "
        "letter commits once, a small bounce or slide commits it again (LL), the hand out of view ends a word.",
        epilog="examples:\n  fingerspell predict photo.jpg\n"
               "  fingerspell predict ../shared/datasets/massey/asl_dataset --limit 40\n"
               "  fingerspell predict clip.mp4 --save annotated.mp4 --json\n"
               "  fingerspell predict 0 --save webcam.mp4 --limit 300",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", metavar="SOURCE", help="image, folder, glob, video file or camera index")
    parser.add_argument("--model", metavar="BUNDLE", help="bundle folder (model.onnx + bundle.json); default: built in")
    parser.add_argument("--conf", type=float, default=None,
                        help="smallest calibrated probability reported as a letter (default: the bundle's, "
                        "chosen on unseen signers; 0.5 for bundles without one)")
    parser.add_argument("--classes", metavar="A,B", help="only consider these classes (comma separated)")
    parser.add_argument("--save", metavar="OUT",
                        help="annotated output: a folder of images for image sources, a .mp4/.avi for video")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON record per image / frame (videos end with a summary record)")
    parser.add_argument("--report", metavar="FILE", help="report file, .csv or .json (default for folders and "
                        "videos: FINGERSPELL_HOME/predictions/<source>-<time>.csv)")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N images (spread over class folders) or frames")
    parser.add_argument("--complexity", type=int, choices=[0, 1],
                        help="MediaPipe hand model: 0 lite (about twice as fast), 1 full; default: the bundle's")
    parser.add_argument("--workers", type=int, help="processes for folders (default: one per core, at most 4, at least 10 images each)")
    path = parser.add_mutually_exclusive_group()
    path.add_argument("--fast", action="store_true",
                      help="one hand detection per still image, never the bundle's test-time views and landmark "
                      "refinement (the default runs them only for images whose first answer is uncertain)")
    path.add_argument("--full", action="store_true",
                      help="test-time views and landmark refinement for every still image (about 5x slower than "
                      "the default, which runs them only for uncertain images)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.errors import FingerspellError
    from fingerspell.infer.batch import run_prediction

    if args.limit is not None and args.limit < 1:
        raise FingerspellError(f"--limit must be at least 1, got {args.limit}")
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    run_prediction(args.source, model=args.model, conf=args.conf, classes=classes, save=args.save,
                   as_json=args.json, report=args.report, limit=args.limit, workers=args.workers,
                   complexity=args.complexity, still="fast" if args.fast else "full" if args.full else "cascade")
    return 0
