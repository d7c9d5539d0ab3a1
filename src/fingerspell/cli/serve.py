"""`fingerspell serve`: the browser app (live page, inspect, datasets) on this machine."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="open the browser app: sign at your webcam and see letters and words",
        description="Serve the fingerspell app. The live page recognises letters from your webcam inside "
        "the browser (nothing leaves your machine); the inspect page analyses your own images and videos "
        "with a model; the dataset pages browse and fix imported datasets. Binds to 127.0.0.1 unless "
        "--host says otherwise.",
        epilog="examples:\n  fingerspell serve --open\n  fingerspell serve --model my-bundle/ --root ~/photos",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (127.0.0.1: this machine only; 0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument("--model", metavar="BUNDLE", help="bundle folder (model.onnx + bundle.json); default: built in")
    parser.add_argument("--root", metavar="DIR", action="append", default=[],
                        help="a folder the inspect page may read images and videos from (repeatable; "
                        "nothing else on disk is reachable)")
    parser.add_argument("--open", action="store_true", help="open the app in the default web browser")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from fingerspell.errors import FingerspellError
    from fingerspell.web.app import ServerConfig, create_app
    from fingerspell.web.assets import check_vendor

    if not 0 < args.port < 65536:
        raise FingerspellError(f"--port must be 1-65535, got {args.port}")
    check_vendor()
    app = create_app(ServerConfig(bundle=Path(args.model) if args.model else None,
                                  roots=[Path(r) for r in args.root]))
    bundle = app.state.bundle
    if bundle.input.kind == "landmarks" and not (bundle.path / "browser.onnx").is_file():
        print(f"warning: {bundle.path} has no browser.onnx, so the live page cannot run it: "
              f"python -m fingerspell.export.browser {bundle.path}", file=sys.stderr)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"fingerspell app: {url}  (model: {app.state.bundle.name}; Ctrl-C stops)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    print("stopped", file=sys.stderr)
    return 0
