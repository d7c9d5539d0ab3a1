"""One set of rules: the browser's spelling.js (run by node) and Python's Spelling must agree,
frame by frame, on the same real landmark streams with the bundle's parameters and motion model."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fingerspell.export.spelling_params import DEFAULTS
from fingerspell.infer.spelling import Spelling
from fingerspell.infer.spelling_data import Stream

from .spelling_fixtures import model, photos, placed, takes  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]
SPELLING_JS = REPO / "src" / "fingerspell" / "web" / "static" / "js" / "spelling.js"
RUNNER = Path(__file__).with_name("spelling_runner.mjs")


def streams(model, takes, photos):
    """Real streams that exercise every rule: words with transitions, a bounce, J and Z, a gap
    between words, a short dropout, a left hand, 15 and 30 fps, a hand moved to a new place, a Q that moves like a J."""
    out = []
    s = Stream(seed=11)
    for letter in "HE":
        s.take(takes[letter][0], letter, seconds=0.6, start=10)
    s.take(takes["L"][0], "L", seconds=0.6, start=45)
    s.bounce(0.3, 0.7)
    s.take(takes["L"][0], "L", seconds=0.6, start=s.take_end)  # the bounce comes back: the take goes on
    s.take(takes["O"][0], "O", seconds=0.6, start=10)
    s.gap(0.8)
    s.take(takes["J"][1], "J")
    s.take(takes["A"][0], "A", seconds=0.6, start=10)
    s.take(takes["Z"][0], "Z", seconds=1.5, start=0)
    out.append(s)
    s = Stream(fps=15.0, seed=12)
    pose = placed(s, photos["B"])
    s.pose(pose, "B", 0.7)
    s.bounce(0.3, 0.7, axis=0)
    s.pose(pose, "B", 0.7)
    s.pose(placed(s, photos["C"]), "C", 0.7)
    out.append(s)
    s = Stream(seed=13)  # real holds in which the signer moves the hand to a new place (no double)
    s.take(takes["R"][1], "R")
    s.take(takes["V"][1], "V")
    s.take(takes["Q"][0], "Q")  # moves like a J, without the I shape
    out.append(s)
    frames = []
    for s in out:
        probs = model.probabilities(s.frames)
        frames.append([{**f, "probs": p} for f, p in zip(s.frames, probs)])
    # A left hand and a dropout of two frames in the middle of a hold.
    left = [{**f, "handedness": "Left" if f["landmarks"] is not None else None} for f in frames[1]]
    for i in (5, 6):  # inside the first hold
        left[i] = {**left[i], "probs": None, "landmarks": None, "handedness": None}
    frames.insert(2, left)
    return frames


def run_python(labels, params, stream):
    speller = Spelling(labels, params)
    letters, confidence, commits = [], [], []
    for frame in stream:
        step = speller.push_frame(frame).to_dict()
        letters.append(step["letter"])
        confidence.append(step["confidence"])
        commits.extend(step["committed"])
    return {"letters": letters, "confidence": confidence, "text": speller.text, "commits": commits}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_rules_match_python_frame_by_frame(model, takes, photos, tmp_path):
    params = model.bundle.extra.get("spelling")
    assert params and params.get("motion"), "the default bundle ships the spelling parameters and motion model"
    # Through JSON both ways, so both sides see exactly the same numbers.
    job = json.loads(json.dumps({"labels": model.labels, "params": params, "streams": streams(model, takes, photos)}))
    (tmp_path / "in.json").write_text(json.dumps(job))
    subprocess.run(["node", str(RUNNER), str(tmp_path / "in.json"), str(tmp_path / "out.json")], check=True,
                   capture_output=True, timeout=60)
    browser = json.loads((tmp_path / "out.json").read_text())["streams"]
    texts = []
    for stream, js in zip(job["streams"], browser):
        py = run_python(job["labels"], job["params"], stream)
        assert js["letters"] == py["letters"]
        assert js["text"] == py["text"]
        assert js["commits"] == py["commits"]
        assert js["confidence"] == pytest.approx(py["confidence"], abs=1e-9)
        texts.append(py["text"])
    # The streams are real spelling, not empty agreement.
    assert texts[0].startswith("HELLO") and "J" in texts[0] and "Z" in texts[0]
    assert texts[1] == texts[2] == "BBC"
    assert texts[3] == "RVQ"


def test_browser_defaults_are_the_python_defaults():
    source = SPELLING_JS.read_text()
    start = source.index("export const DEFAULTS")
    block = source[start:source.index("});", start)]
    for key, value in DEFAULTS.items():
        line = next((ln for ln in block.splitlines() if ln.strip().startswith(f"{key}:")), None)
        assert line is not None, f"spelling.js has no default for {key}"
        js_value = json.loads(line.split(":", 1)[1].split("//")[0].strip().rstrip(","))
        assert js_value == value, f"{key}: spelling.js {js_value} != Python {value}"
