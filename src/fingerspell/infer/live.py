"""`fingerspell live`: the webcam in a window with the hand, the letter, top-5 bars, the
spelled text and the frame rate; `q` (or Esc, or closing the window) quits.

The project pins opencv-python-headless (MediaPipe and the server need no GUI), which has no
windows at all: `check_display()` says so in one line and points to the headless equivalent,
`fingerspell predict 0 --save out.mp4`, which records the same annotated view to a file.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2

from fingerspell.errors import DisplayError

WINDOW = "fingerspell live (q quits)"
HEADLESS_HINT = ("sign at your webcam in the browser app instead: fingerspell serve --open "
                 "(or record the annotated view: fingerspell predict {camera} --save out.mp4 --limit 300)")


def gui_available() -> tuple[bool, str]:
    """Whether this OpenCV can open a window here, and why not when it cannot."""
    info = cv2.getBuildInformation()
    gui_line = next((line for line in info.splitlines() if line.strip().startswith("GUI:")), "")
    if gui_line and gui_line.split(":", 1)[1].strip().upper() == "NONE":
        return False, "this OpenCV build has no GUI (opencv-python-headless cannot open windows)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY is not set: running over SSH or in a container?)"
    return True, ""


def check_display(camera: int = 0) -> None:
    """Raise DisplayError with a one-line reason and the headless alternative when no window can open."""
    ok, why = gui_available()
    if not ok:
        raise DisplayError(f"cannot open a live window: {why}; {HEADLESS_HINT.format(camera=camera)}")


def run_live(camera: int = 0, model: str | Path | None = None, conf: float = 0.5,
             classes: Sequence[str] | None = None, max_frames: int | None = None,
             complexity: int | None = None) -> dict[str, Any]:
    """Show the live view until `q`; return the spelled text, committed letters and mean FPS.

    Raises DisplayError (no GUI / no display), SourceError (no camera), BundleError (bad model).
    """
    from fingerspell.infer.predictor import Predictor
    from fingerspell.infer.sources import open_camera

    check_display(camera)
    predictor = Predictor(model, conf=conf, classes=classes, mode="video", model_complexity=complexity)
    source = open_camera(camera)
    fps, frames, last = 0.0, 0, time.perf_counter()
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error as exc:  # a GUI build that still cannot reach a display
        source.close()
        raise DisplayError(f"cannot open a live window ({exc.msg.strip() if hasattr(exc, 'msg') else exc}); "
                           f"{HEADLESS_HINT.format(camera=camera)}") from None
    try:
        for prediction in predictor.predict(source, keep_image=True):
            now = time.perf_counter()
            rate = 1.0 / max(now - last, 1e-6)
            fps = rate if frames == 0 else 0.9 * fps + 0.1 * rate  # smoothed so the number is readable
            last = now
            frames += 1
            canvas = prediction.draw(fps=fps)
            cv2.imshow(WINDOW, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
            key = cv2.waitKey(1) & 0xFF
            if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                break
            if max_frames and frames >= max_frames:
                break
    finally:
        source.close()
        cv2.destroyAllWindows()
        predictor.close()
    speller = predictor.last_speller
    return {"text": speller.text if speller else "", "letters": speller.letters() if speller else [],
            "frames": frames, "fps": round(fps, 1)}
