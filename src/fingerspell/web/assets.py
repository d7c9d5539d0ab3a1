"""Front-end packages the app serves itself: copied from node_modules by `make setup`.

The live page runs MediaPipe Hands (`@mediapipe/hands`) and the letter model
(`onnxruntime-web`) in the browser. Both come from the npm registry, pinned in the committed
package-lock.json; `npm ci` installs them and `python -m fingerspell.web.assets node_modules`
copies only the files the page loads into `static/vendor/` (a few tens of MB of the 170 MB
install), so nothing is fetched from a CDN at run time.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from fingerspell.errors import FingerspellError

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

# served folder (/static/vendor/<name>/) -> (its folder in node_modules, the files the page loads).
VENDOR_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mediapipe-hands": ("@mediapipe/hands", (
        "hands.js",
        "hands.binarypb",
        "hands_solution_packed_assets.data",
        "hands_solution_packed_assets_loader.js",
        "hands_solution_simd_wasm_bin.js",
        "hands_solution_simd_wasm_bin.wasm",
        "hands_solution_simd_wasm_bin.data",
        "hands_solution_wasm_bin.js",
        "hands_solution_wasm_bin.wasm",
        "hand_landmark_full.tflite",
        "hand_landmark_lite.tflite",
    )),
    # FastAPI's /docs page, served from here instead of the CDN FastAPI would load it from.
    "swagger-ui": ("swagger-ui-dist", (
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
    )),
    "onnxruntime-web": ("onnxruntime-web/dist", (
        "ort.wasm.min.js",
        "ort-wasm-simd-threaded.mjs",
        "ort-wasm-simd-threaded.wasm",
    )),
}


def missing_vendor_files() -> list[str]:
    """The vendored files that are not there yet (empty when `make setup` has run)."""
    return [f"{served}/{name}" for served, (_, names) in VENDOR_FILES.items() for name in names
            if not (VENDOR_DIR / served / name).is_file()]


def check_vendor() -> None:
    """Raise FingerspellError naming the first missing front-end file, with the fix."""
    missing = missing_vendor_files()
    if missing:
        raise FingerspellError(
            f"the browser app's front-end files are not installed ({missing[0]} and {len(missing) - 1} more "
            f"missing under {VENDOR_DIR}): run `make setup` (npm ci + copy) in the fingerspell checkout")


def install_vendor(node_modules: Path) -> list[Path]:
    """Copy the needed files from an `npm ci` install into static/vendor/. Returns the copied paths.

    Raises FingerspellError when a file is missing in node_modules (wrong or partial install).
    """
    copied = []
    for served, (package, names) in VENDOR_FILES.items():
        source_dir = Path(node_modules) / package
        target_dir = VENDOR_DIR / served
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            source = source_dir / name
            if not source.is_file():
                raise FingerspellError(f"{source}: missing from the npm install (run `npm ci` in the checkout)")
            shutil.copy2(source, target_dir / name)
            copied.append(target_dir / name)
    return copied


if __name__ == "__main__":
    try:
        files = install_vendor(Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules"))
    except FingerspellError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    size = sum(f.stat().st_size for f in files)
    print(f"front-end files: {len(files)} copied to {VENDOR_DIR} ({size / 2**20:.1f} MiB)")
