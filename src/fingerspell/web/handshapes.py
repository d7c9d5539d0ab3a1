"""Reference handshapes for practice mode: each letter's typical hand from the project's own data.

    python -m fingerspell.web.handshapes ../shared/datasets/asl-landmarks/landmarks.npz

writes `static/data/handshapes.json` (committed): for every letter, the 21 landmarks (x, y) of
the *medoid* hand of the shared asl-landmarks webcam set, i.e. the real recorded hand closest
to the letter's per-point median after centring on the wrist and scaling by the palm size.
A real hand rather than the average, so the drawing is always a possible handshape. No image
is copied; only 42 numbers per letter.

The set was recorded from a mirrored (selfie) preview of a right hand (features.py: its 3-D
shape reads "Right" for 99% of hands), which is how a right-handed learner sees their own hand
in the page's mirrored camera view, so the points are drawn as they are.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from fingerspell.atomic import write_text
from fingerspell.errors import FingerspellError

OUTPUT = Path(__file__).resolve().parent / "static" / "data" / "handshapes.json"
# The webcam frames' aspect ratio is not recorded in the set; 4:3 is the common webcam shape.
ASSUMED_FRAME = (640.0, 480.0)
NOTES = {"J": "then draw a J in the air with the little finger", "Z": "then draw a Z in the air with the index finger"}


def typical_handshapes(points: np.ndarray, letters: np.ndarray) -> dict[str, dict]:
    """{letter: {"points": [[x, y], ...21], "samples": n, "index": i}} from raw MediaPipe landmarks.

    Raises FingerspellError when the arrays do not hold [N, 21, 3] landmarks with N labels.
    """
    pts = np.asarray(points, dtype=np.float64)
    labels = np.asarray(letters).astype(str)
    if pts.ndim != 3 or pts.shape[1:] != (21, 3) or len(labels) != len(pts):
        raise FingerspellError(f"expected landmarks [N, 21, 3] and N labels, got {list(pts.shape)} and {len(labels)}")
    xy = pts[:, :, :2] * np.array(ASSUMED_FRAME)
    xy = xy - xy[:, :1]
    palm = np.linalg.norm(xy[:, [5, 9, 17]], axis=-1).mean(axis=1)
    xy = xy / np.maximum(palm, 1e-6)[:, None, None]
    out: dict[str, dict] = {}
    for letter in sorted(set(labels)):
        rows = np.flatnonzero(labels == letter)
        hands = xy[rows]
        median = np.median(hands, axis=0)
        best = int(np.argmin(np.linalg.norm(hands - median, axis=-1).mean(axis=1)))
        entry = {"points": np.round(hands[best], 3).tolist(), "samples": int(len(rows)), "index": int(rows[best])}
        if letter in NOTES:
            entry["note"] = NOTES[letter]
        out[letter.upper()] = entry
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fingerspell.web.handshapes path/to/asl-landmarks/landmarks.npz", file=sys.stderr)
        return 2
    source = Path(argv[0])
    try:
        with np.load(source, allow_pickle=False) as data:
            letters = typical_handshapes(data["x"], data["y"])
    except (OSError, KeyError, ValueError) as exc:
        print(f"error: {source}: not a landmarks .npz with x and y ({exc})", file=sys.stderr)
        return 2
    except FingerspellError as exc:
        print(f"error: {source}: {exc}", file=sys.stderr)
        return 2
    document = {
        "source": "asl-landmarks (../shared/datasets/asl-landmarks/landmarks.npz), CC0: the medoid hand per letter",
        "made_by": "python -m fingerspell.web.handshapes ../shared/datasets/asl-landmarks/landmarks.npz",
        "units": "wrist at (0, 0), palm size 1, x right and y down as seen in the mirrored view",
        "letters": letters,
    }
    # One line per letter: small, and a diff shows which letter changed.
    head = json.dumps({k: v for k, v in document.items() if k != "letters"}, indent=1)[:-2]
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in letters.items())
    write_text(OUTPUT, head + ',\n "letters": {\n' + body + "\n }\n}\n")
    print(f"{OUTPUT}: {len(letters)} letters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
