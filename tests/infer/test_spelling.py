"""The spelling rules (fingerspell.infer.spelling) on streams of REAL landmarks: asl-landmarks
webcam takes and Massey photos' landmarks held with drift, through the default bundle's
calibrated probabilities and J/Z motion model."""
from __future__ import annotations

import numpy as np
import pytest

from fingerspell.errors import BundleError, FingerspellError
from fingerspell.export.bundle import Bundle
from fingerspell.infer.spelling import Spelling
from fingerspell.infer.spelling_data import Stream

from .spelling_fixtures import model, photos, placed, spell, takes  # noqa: F401 (fixtures)


def commits(speller):
    return [(c.letter, c.kind) for c in speller.commits]


@pytest.mark.parametrize("letter", ["B", "L", "Y"])
def test_a_real_held_letter_with_drift_commits_once(model, takes, letter):
    # The whole webcam take: 2.5-4 s of one letter with the signer's natural drift and tremor.
    stream = Stream(seed=1)
    stream.take(takes[letter][0], letter)
    speller, steps = spell(model, stream)
    assert speller.text == letter
    assert commits(speller) == [(letter, "letter")]
    held = [s.letter for s in steps[len(steps) // 2:]]
    assert set(held) == {letter}  # the stable letter does not flicker


def test_a_photo_held_with_drift_for_four_seconds_commits_once(model, photos):
    stream = Stream(seed=2)
    stream.pose(placed(stream, photos["L"]), "L", 4.0)
    speller, _ = spell(model, stream)
    assert commits(speller) == [("L", "letter")]


@pytest.mark.parametrize("source", ["photo", "take"])
def test_a_bounce_commits_a_double_letter(model, photos, takes, source):
    stream = Stream(seed=3)
    if source == "photo":
        pose = placed(stream, photos["L"])
        stream.pose(pose, "L", 0.6)
        stream.bounce(0.3, 0.7)
        stream.pose(pose, "L", 0.6)
    else:  # the bounce brings the hand back: the take goes on where it was
        stream.take(takes["L"][0], "L", seconds=0.6, start=45)
        stream.bounce(0.3, 0.7)
        stream.take(takes["L"][0], "L", seconds=0.6, start=stream.take_end)
    speller, _ = spell(model, stream)
    assert speller.text == "LL"
    assert commits(speller) == [("L", "letter"), ("L", "double")]


def test_a_slide_at_the_same_distance_commits_a_double_letter(model, photos):
    stream = Stream(seed=5)
    pose = placed(stream, photos["L"])
    stream.pose(pose, "L", 0.6)
    slid = pose.copy()
    slid[:, 0] += 1.2 * float(np.linalg.norm(pose[9, :2] - pose[0, :2]))  # a palm size and a bit sideways
    stream.pose(slid, "L", 0.6)
    speller, _ = spell(model, stream)
    assert commits(speller) == [("L", "letter"), ("L", "double")]


@pytest.mark.parametrize("letter, take", [("R", 1), ("T", 0), ("U", 1), ("V", 1)])
def test_a_real_hold_with_the_hand_moved_to_a_new_place_commits_once(model, takes, letter, take):
    # Webcam takes in which the signer moves the held hand a palm size or more to another place,
    # nearer to or further from the camera (T: a smooth 0.3 s move; R, U, V: one-frame jumps, a
    # cut in the recording). A bounce or slide keeps the hand's distance; these commit once.
    stream = Stream(seed=6)
    stream.take(takes[letter][take], letter)
    speller, _ = spell(model, stream)
    assert commits(speller) == [(letter, "letter")]
    # The takes do hold that movement: judged by movement alone it reads as a double.
    speller, _ = spell(model, stream, params={"depth_change": 100.0})
    assert commits(speller) == [(letter, "letter"), (letter, "double")]


def test_a_transition_commits_no_letters_in_between(model, takes):
    # A -> B -> C: the hand passes through in-between shapes for 0.15-0.35 s each time.
    stream = Stream(seed=4)
    for letter in "ABC":
        stream.take(takes[letter][0], letter, seconds=0.6, start=20)
    speller, steps = spell(model, stream)
    assert speller.text == "ABC"
    assert [c.kind for c in speller.commits] == ["letter"] * 3
    # Each letter commits inside its own hold, not during the movement before it.
    for (first, end, letter), commit in zip(stream.holds, speller.commits):
        assert commit.letter == letter and first <= commit.frame < end


@pytest.mark.parametrize("letter", ["J", "Z"])
@pytest.mark.parametrize("take", [0, 1])
def test_j_and_z_are_read_from_their_motion(model, takes, letter, take):
    # A whole webcam take (2.5-3.5 s; the signer draws the letter once or, for Z, repeatedly).
    stream = Stream(seed=5)
    stream.gap(0.3)
    stream.take(takes[letter][take], letter)
    stream.gap(0.5)
    speller, _ = spell(model, stream)
    assert speller.text and set(speller.text) == {letter}
    assert all(c.time - p.time >= 1.3 for p, c in zip(speller.commits, speller.commits[1:]))  # one per stroke
    # Without the motion model the same frames give no J / Z (the static model never commits them).
    static, _ = spell(model, stream, params={"motion": None})
    assert letter not in static.text


def test_a_q_that_moves_is_not_a_j(model, takes):
    # A real webcam take of Q (pointing down) whose fingertip path the motion model alone reads
    # as a J; the hand never shows the I (or J) shape a J is drawn with, so no J commits.
    stream = Stream(seed=14)
    stream.take(takes["Q"][0], "Q")
    speller, _ = spell(model, stream)
    assert speller.text == "Q"
    ungated, _ = spell(model, stream, params={"motion_gate": 0.0})
    assert "J" in ungated.text


def test_a_still_i_is_not_a_j(model, takes):
    stream = Stream(seed=6)
    stream.take(takes["I"][0], "I", seconds=1.5, start=0)
    speller, _ = spell(model, stream)
    assert speller.text == "I"


def test_a_letter_below_the_calibrated_threshold_is_withheld(model, photos):
    # A hand halfway between the real A and B poses, held still: no letter is likely enough.
    stream = Stream(seed=7)
    a, b = placed(stream, photos["A"]), placed(stream, photos["B"])
    half = (a + b) / 2
    stream.pose(half, None, 1.5, jitter=0.0)
    probs = np.asarray([p for p in model.probabilities(stream.frames) if p is not None])
    best = float(probs.mean(axis=0).max())
    assert best < 0.5
    speller, steps = spell(model, stream)
    assert speller.text == "" and all(s.letter is None for s in steps)
    # The same frames commit once the threshold is below what the model says.
    speller, _ = spell(model, stream, threshold=best * 0.5)
    assert len(speller.text) == 1


def test_the_same_clip_spells_the_same_at_15_and_30_fps(model, takes):
    texts = []
    for fps in (15.0, 30.0):
        stream = Stream(fps=fps, seed=8)
        for letter in "CAB":
            stream.take(takes[letter][0], letter, seconds=0.7, start=15)
        stream.gap(0.8)
        stream.take(takes["O"][0], "O", seconds=0.7, start=15)
        texts.append(spell(model, stream)[0].text)
    assert texts == ["CAB O", "CAB O"]


def test_letting_go_and_the_ui_edits(model, photos):
    stream = Stream(seed=9)
    pose = placed(stream, photos["O"])
    stream.pose(pose, "O", 0.6)
    stream.gap(0.4)  # longer than `release`, shorter than `space_after`: same word, new O
    stream.pose(pose, "O", 0.6)
    speller, _ = spell(model, stream)
    assert speller.text == "OO"
    assert [c.kind for c in speller.commits] == ["letter", "letter"]
    speller.add_space()
    assert speller.text == "OO "
    speller.add_space()  # never two spaces
    speller.backspace()
    assert speller.text == "OO"
    speller.clear()
    assert speller.text == ""
    speller.reset()
    assert speller.text == "" and speller.commits == []


def test_bad_input_and_bad_parameters():
    with pytest.raises(FingerspellError, match="expected 2 probabilities"):
        Spelling(["A", "B"]).push(0.0, [1.0])
    with pytest.raises(BundleError, match="spelling.tau"):
        Spelling(["A", "B"], {"tau": "fast"})
    with pytest.raises(BundleError, match="unknown key 'spelling.hold'"):
        Spelling(["A", "B"], {"hold": 3})
    with pytest.raises(BundleError, match="spelling.motion_shapes"):
        Spelling(["A", "B"], {"motion_shapes": {"J": "I"}})
    with pytest.raises(BundleError, match=r"spelling.motion_gate' is out of range"):
        Spelling(["A", "B"], {"motion_gate": 1.5})


def test_bundle_without_the_keys_loads_with_defaults_and_malformed_ones_fail(bundle_dir, tmp_path):
    import json
    import shutil

    folder = tmp_path / "b"
    shutil.copytree(bundle_dir, folder)
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest.pop("spelling", None)
    manifest.pop("calibration", None)
    (folder / "bundle.json").write_text(json.dumps(manifest))
    bundle = Bundle.load(folder)
    assert bundle.temperature == 1.0 and bundle.spelling.threshold == 0.5 and bundle.spelling.motion is None
    for key, value, message in [("spelling", {"min_hold": -1}, "spelling.min_hold"),
                                ("spelling", {"motion": {"classes": ["none", "J"]}}, "spelling.motion"),
                                ("calibration", {"temperature": 0}, "calibration.temperature"),
                                ("calibration", [1.5], "'calibration' must be an object")]:
        (folder / "bundle.json").write_text(json.dumps({**manifest, key: value}))
        with pytest.raises(BundleError, match=message):
            Bundle.load(folder)
