"""Videos assembled from real Massey photos: held letters, a wobbling hand, double letters,
a pause between words, through the Predictor (MediaPipe tracking -> model -> the spelling
rules of infer/spelling.py). The text must be exact, steady segments must not switch, and a
change of letter must show within 10 frames (1/3 s at 30 fps)."""
from __future__ import annotations

import json

import cv2
import pytest

from fingerspell.cli import main
from fingerspell.infer.predictor import Predictor
from fingerspell.infer.smoothing import count_switches

from .clips import FPS, Segment, bounce, boundaries, write_clip

MAX_DELAY_FRAMES = 10


def spell(bundle_dir, path):
    # A fresh predictor per clip: tracking state must not leak from one video to the next.
    with Predictor(bundle_dir) as predictor:
        predictions = list(predictor.predict(str(path)))
        return predictions, predictor.last_speller


def check_segments(predictions, truth):
    """Per steady segment: no switches after the letter settled; the segment's letter shows
    within MAX_DELAY_FRAMES of its first frame. Returns the delays."""
    letters = [p.letter for p in predictions]
    starts = [0] + boundaries(truth)
    ends = starts[1:] + [len(truth)]
    delays = []
    for start, end in zip(starts, ends):
        want = truth[start]
        shown = letters[start:end]
        if want is None:
            continue
        hit = next((i for i, letter in enumerate(shown) if letter == want), None)
        assert hit is not None, f"{want} never shown in frames {start}-{end}: {shown}"
        assert hit <= MAX_DELAY_FRAMES, f"{want} took {hit} frames to show (frames {start}-{end})"
        delays.append(hit)
        settled = shown[hit:]
        assert count_switches(settled) == 0 and all(l == want for l in settled), (
            f"spurious switches while {want} was held: {''.join(l or '.' for l in settled)}")
    return delays


def test_hi_held_one_second_each(tmp_path, bundle_dir, letter_photos):
    clip = tmp_path / "hi.avi"
    truth = write_clip(clip, [Segment("H", letter_photos["H"], FPS), Segment("I", letter_photos["I"], FPS)])
    predictions, speller = spell(bundle_dir, clip)
    assert len(predictions) == len(truth) == 60
    assert speller.text == "HI"
    delays = check_segments(predictions, truth)
    assert max(delays) <= MAX_DELAY_FRAMES
    # One commit per letter, each within the segment it belongs to, with its time.
    commits = speller.letters()
    assert [c["letter"] for c in commits] == ["H", "I"]
    assert 0 <= commits[0]["frame"] < 30 <= commits[1]["frame"] < 30 + MAX_DELAY_FRAMES
    assert commits[1]["time"] == pytest.approx(commits[1]["frame"] / FPS, abs=1e-3)


def test_wobbling_hand_gives_one_letter(tmp_path, bundle_dir, letter_photos):
    clip = tmp_path / "wobble.avi"
    # Two seconds of L with +-10 px shake and +-8 degrees of rotation every frame.
    truth = write_clip(clip, [Segment("L", letter_photos["L"], 2 * FPS, jitter=10, rotate=8)], seed=3)
    predictions, speller = spell(bundle_dir, clip)
    assert speller.text == "L"
    check_segments(predictions, truth)
    assert count_switches([p.letter for p in predictions]) == 0


def test_double_letter_with_a_bounce(tmp_path, bundle_dir, letter_photos):
    clip = tmp_path / "ll.avi"
    photo = letter_photos["L"]
    truth = write_clip(clip, [
        Segment("L", photo, 25),
        # Down 120 px (about 0.8 palm sizes of this hand) and back in 10 frames: the rules
        # count a bounce from half a palm size, so a tracker's shake is never a double.
        Segment("L", photo, 12, path=bounce(10, 120)),
        Segment("L", photo, 25),
    ])
    predictions, speller = spell(bundle_dir, clip)
    assert speller.text == "LL"
    assert [c["kind"] for c in speller.letters()] == ["letter", "double"]
    assert count_switches([p.letter for p in predictions]) == 0


def test_double_letter_with_a_slide(tmp_path, bundle_dir, letter_photos):
    clip = tmp_path / "ll_slide.avi"
    photo = letter_photos["L"]
    # 210 px (about 1.3 palm sizes of this hand) to the side in half a second, then still: the
    # rules count a slide from one palm size within 0.4 s (slower or shorter moves are drift).
    write_clip(clip, [Segment("L", photo, 25), Segment("L", photo, 35, path=[(-14.0 * i, 0.0) for i in range(1, 16)])])
    _, speller = spell(bundle_dir, clip)
    assert speller.text == "LL"


def test_hello_and_a_pause_between_words(tmp_path, bundle_dir, letter_photos):
    clip = tmp_path / "hello_hi.avi"
    p = letter_photos
    truth = write_clip(clip, [
        Segment("H", p["H"], 20), Segment("E", p["E"], 20), Segment("L", p["L"], 20),
        Segment("L", p["L"], 12, path=bounce(10, 120)), Segment("L", p["L"], 15), Segment("O", p["O"], 20),
        Segment(None, None, 20),  # hand out of view for 2/3 s: the word ends
        Segment("H", p["H"], 20), Segment("I", p["I"], 20),
    ])
    predictions, speller = spell(bundle_dir, clip)
    assert speller.text == "HELLO HI"
    check_segments(predictions, truth)
    # The no-hand state is reported while the hand is away.
    gap = [i for i, letter in enumerate(truth) if letter is None]
    away = [predictions[i].letter for i in gap[10:]]  # after the rules' `release` (0.3 s)
    assert away and all(letter is None for letter in away)


def test_predict_cli_on_a_video_writes_annotated_video_and_json(tmp_path, bundle_dir, letter_photos, capsys):
    clip = tmp_path / "hi.avi"
    truth = write_clip(clip, [Segment("H", letter_photos["H"], FPS), Segment("I", letter_photos["I"], FPS)])
    out_video, report = tmp_path / "annotated.mp4", tmp_path / "frames.csv"
    code = main(["predict", str(clip), "--model", str(bundle_dir), "--save", str(out_video),
                 "--report", str(report), "--json"])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    frames, summary = records[:-1], records[-1]
    assert len(frames) == len(truth) and [r["frame"] for r in frames] == list(range(len(truth)))
    assert summary["summary"] is True and summary["text"] == "HI"
    assert [c["letter"] for c in summary["committed"]] == ["H", "I"]
    assert all(isinstance(c["time"], float) for c in summary["committed"])
    capture = cv2.VideoCapture(str(out_video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == len(truth)
    assert (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (640, 480)
    capture.release()
    rows = report.read_text().splitlines()
    assert len(rows) == 1 + len(truth) and rows[0].startswith("frame,time,letter")
