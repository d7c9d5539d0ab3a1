"""HandDetector on real images: retries find hands plain MediaPipe misses, and every answer
is in the coordinates of the image the caller passed (padding, mirroring, crops undone)."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from fingerspell.data.images import read_image
from fingerspell.errors import FingerspellError
from fingerspell.hands import Hand, HandDetector

os.environ.setdefault("GLOG_minloglevel", "2")

# Tightly cropped Massey hands (segmented on black) that plain MediaPipe misses.
MISSED_PLAIN = "massey/asl_dataset/s/hand2_s_right_seg_3_cropped.jpeg"
MISSED_PLAIN_2 = "massey/asl_dataset/a/hand1_a_bot_seg_2_cropped.jpeg"
FOUND_PLAIN = "massey/asl_dataset/a/hand1_a_bot_seg_1_cropped.jpeg"


@pytest.fixture(scope="module")
def plain() -> HandDetector:
    with HandDetector(robust=False) as detector:
        yield detector


@pytest.fixture(scope="module")
def robust() -> HandDetector:
    with HandDetector() as detector:
        yield detector


def _on_hand_fraction(image: np.ndarray, hand: Hand) -> float:
    """Share of landmarks that land on the segmented hand (non-black, allowing a few pixels)."""
    mask = (image.max(axis=2) > 30).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((15, 15), np.uint8))
    h, w = mask.shape
    px = np.clip(np.round(hand.pixels(w, h)).astype(int), 0, [w - 1, h - 1])
    return float(mask[px[:, 1], px[:, 0]].mean())


@pytest.mark.parametrize("name", [MISSED_PLAIN, MISSED_PLAIN_2])
def test_padding_finds_a_massey_hand_that_plain_mediapipe_misses(datasets_root, plain, robust, name):
    image = read_image(datasets_root / name)
    assert plain.detect(image) is None  # the failure the retries exist for

    hand = robust.detect(image)
    assert hand is not None
    assert hand.method.startswith("pad") or "pad" in hand.method
    assert hand.landmarks.shape == (21, 3) and hand.landmarks.dtype == np.float32
    assert hand.world_landmarks is not None and hand.world_landmarks.shape == (21, 3)
    assert hand.handedness in ("Left", "Right") and 0.5 < hand.score <= 1.0
    # Landmarks are in the original 400x400 image (the padding is undone) and on the hand.
    xy = hand.landmarks[:, :2]
    assert xy.min() > -0.02 and xy.max() < 1.02
    assert _on_hand_fraction(image, hand) >= 0.9
    xmin, ymin, xmax, ymax = hand.box
    assert 0 <= xmin < xmax <= 400 and 0 <= ymin < ymax <= 400
    assert xmax - xmin > 80 and ymax - ymin > 150  # the hand fills most of the crop


def test_plain_hit_is_answered_by_the_first_attempt(datasets_root, robust):
    image = read_image(datasets_root / FOUND_PLAIN)
    hand = robust.detect(image)
    assert hand is not None and hand.method == "plain"
    assert _on_hand_fraction(image, hand) >= 0.9


def test_flipping_the_image_mirrors_x_and_swaps_handedness(datasets_root, robust):
    image = read_image(datasets_root / FOUND_PLAIN)
    hand = robust.detect(image)
    mirrored = robust.detect(np.ascontiguousarray(image[:, ::-1]))
    assert hand is not None and mirrored is not None
    assert {hand.handedness, mirrored.handedness} == {"Left", "Right"}
    assert np.abs((1.0 - mirrored.landmarks[:, 0]) - hand.landmarks[:, 0]).mean() < 0.02
    assert np.abs(mirrored.landmarks[:, 1] - hand.landmarks[:, 1]).mean() < 0.02


def test_mirrored_and_padded_attempts_report_in_original_image_space(datasets_root):
    image = read_image(datasets_root / MISSED_PLAIN)
    with HandDetector(attempts=["pad50"]) as padded, HandDetector(attempts=["flip-pad50"]) as flipped:
        a, b = padded.detect(image), flipped.detect(image)
    assert a is not None and b is not None and b.method == "flip-pad50"
    # The mirrored attempt saw the other hand; its answer is mapped back and swapped back.
    assert a.handedness == b.handedness
    assert np.abs(a.landmarks[:, :2] - b.landmarks[:, :2]).mean() < 0.02
    assert np.abs(np.array(a.box) - np.array(b.box)).max() < 25
    # World landmarks are mirrored back too (x of the thumb tip keeps its side of the wrist).
    assert np.sign(a.world_landmarks[4, 0] - a.world_landmarks[0, 0]) == np.sign(b.world_landmarks[4, 0] - b.world_landmarks[0, 0])


def test_non_square_image_and_hint_box_crop_map_back(datasets_root):
    # An asl-letters photo (hand in a room) with its annotated hand box.
    import csv

    root = datasets_root / "asl-letters" / "train"
    with open(root / "_annotations.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["filename"].startswith("B11_"))
    image = read_image(root / "images" / row["filename"])
    box = [float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
    # Make it non-square so x and y scale differently.
    image = np.ascontiguousarray(image[:, : int(image.shape[1] * 0.9)])
    with HandDetector(attempts=["plain"]) as plain_only, HandDetector(attempts=["hint"]) as hinted, \
            HandDetector(attempts=["pad25"]) as padded:
        a = plain_only.detect(image)
        b = hinted.detect(image, hint_box=box)
        c = padded.detect(image)
    found = [h for h in (a, b, c) if h is not None]
    assert b is not None and b.method == "hint"
    h, w = image.shape[:2]
    cx, cy = b.landmarks[:, 0].mean() * w, b.landmarks[:, 1].mean() * h
    assert box[0] - 10 <= cx <= box[2] + 10 and box[1] - 10 <= cy <= box[3] + 10
    for other in found:
        assert np.abs(other.landmarks[:, :2] - b.landmarks[:, :2]).mean() < 0.03


def test_a_hint_box_elsewhere_rejects_the_hand(datasets_root):
    image = read_image(datasets_root / FOUND_PLAIN)
    with HandDetector(attempts=["plain"]) as detector:
        assert detector.detect(image) is not None
        # The hand is in the middle; a box in the top-left corner says it is not this hand.
        assert detector.detect(image, hint_box=(0, 0, 40, 40)) is None


def test_video_mode_tracks_a_sequence_of_frames(datasets_root):
    folder = datasets_root / "asl-alphabet" / "asl_alphabet_train" / "B"
    frames = [read_image(p) for p in sorted(folder.glob("*.jpg"))[:8]]
    with HandDetector(mode="video", model_complexity=0) as video:
        hands = [video.detect(frame) for frame in frames]
    found = [h for h in hands if h is not None]
    assert len(found) >= 7
    assert any(h.method == "track" for h in found)
    assert all(h.landmarks.shape == (21, 3) for h in found)


def test_video_mode_on_frames_shifted_like_a_moving_hand(datasets_root):
    image = read_image(datasets_root / FOUND_PLAIN)
    canvas_frames = []
    for step in range(6):  # the hand moves right across a 640x480 frame
        frame = np.zeros((480, 640, 3), np.uint8)
        x = 40 + 30 * step
        frame[40:440, x:x + 400] = image
        canvas_frames.append((frame, x))
    with HandDetector(mode="video") as video:
        results = [(video.detect(f), x) for f, x in canvas_frames]
    centres = [h.landmarks[:, 0].mean() * 640 - x for h, x in results if h is not None]
    assert len(centres) >= 5
    # The hand's position relative to the pasted image stays put while the frame moves.
    assert np.ptp(centres) < 20


def test_grey_and_rgba_images_are_accepted(datasets_root, plain):
    image = read_image(datasets_root / FOUND_PLAIN)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    assert plain.detect(rgba) is not None
    hand = plain.detect(grey)
    assert hand is None or hand.landmarks.shape == (21, 3)


def test_bad_input_and_settings_raise_clear_errors():
    with pytest.raises(FingerspellError, match="mode"):
        HandDetector(mode="webcam")
    with pytest.raises(FingerspellError, match="attempt"):
        HandDetector(attempts=["pad50", "sideways"])
    detector = HandDetector()
    with pytest.raises(FingerspellError, match="image array"):
        detector.detect(np.zeros(10, np.uint8))
    detector.close()
    with pytest.raises(FingerspellError, match="closed"):
        detector.detect(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(FingerspellError, match="zoom"):
        HandDetector(zoom=1.0)


def test_settings_key_names_what_changes_answers():
    a, b = HandDetector(), HandDetector(model_complexity=0)
    assert a.settings_key != b.settings_key
    assert HandDetector().settings_key == a.settings_key
    assert "pad50" in a.settings_key
    assert HandDetector(zoom=0).settings_key != a.settings_key


def test_draw_hand_marks_the_skeleton_on_a_copy(datasets_root, plain):
    from fingerspell.hands.draw import draw_hand

    image = read_image(datasets_root / FOUND_PLAIN)
    before = image.copy()
    hand = plain.detect(image)
    drawn = draw_hand(image, hand, label="A 0.99")
    assert np.array_equal(image, before)  # the caller's image is untouched
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    changed = np.any(drawn != image, axis=2)
    assert changed.mean() > 0.005
    # Lines pass through the landmarks: the pixel at the wrist has been painted.
    wx, wy = np.round(hand.pixels(400, 400)[0]).astype(int)
    assert changed[wy, wx]
    grey = draw_hand(image[:, :, 0], hand)
    assert grey.shape == image.shape


def test_sliver_and_off_image_skeletons_are_not_accepted_as_hands(datasets_root):
    # Real MediaPipe hands (the asl-landmarks set) pass; the shapes low-threshold retries
    # produce on backlit silhouettes (all points along one edge) and fits outside the image fail.
    real = np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False)["x"][:200]
    assert all(HandDetector._plausible(points, 640, 480, None) for points in real)
    sliver = real[0].copy()
    sliver[:, 0] = 0.9 + 0.1 * (sliver[:, 0] - sliver[:, 0].min()) / np.ptp(sliver[:, 0])  # 64 px wide
    sliver[:, 1] = 0.1 + 0.8 * (sliver[:, 1] - sliver[:, 1].min()) / np.ptp(sliver[:, 1])  # 384 px tall
    assert not HandDetector._plausible(sliver, 640, 480, None)
    outside = real[0].copy()
    outside[:, 0] += 1.5
    assert not HandDetector._plausible(outside, 640, 480, None)


# Greyscale augmented copies in asl-letters that the untinted plain attempt misses.
GREY_MISSED = ("asl-letters/train/images/B4_jpg.rf.340e2abfd4dec3e8b7833183326edb6e.jpg",
               "asl-letters/train/images/K3_jpg.rf.544b0d955d1da81bde0a204fd4db9573.jpg")


def _yolo_box(datasets_root, image_path: str, width: int, height: int) -> tuple[float, float, float, float]:
    label = (datasets_root / image_path.replace("/images/", "/labels/")).with_suffix(".txt")
    _, cx, cy, w, h = (float(v) for v in label.read_text().split()[:5])
    return ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)


def test_grey_photos_are_tinted_before_detection(datasets_root):
    from fingerspell.hands.detector import is_grey, tint_grey

    colour = read_image(datasets_root / FOUND_PLAIN)
    assert not is_grey(colour)
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    tinted = tint_grey(ramp)
    assert not is_grey(tinted)
    assert np.all(np.diff(tinted[0].astype(int), axis=0) >= 0)  # brighter grey -> brighter colour
    untinted = HandDetector(attempts=["plain"], tint_grey=False)
    tinting = HandDetector(attempts=["plain"])
    for path in GREY_MISSED:
        image = read_image(datasets_root / path)
        assert is_grey(image)
        assert untinted.detect(image) is None, path
        hand = tinting.detect(image)
        assert hand is not None, path
        # The fit lies on the annotated hand.
        xmin, ymin, xmax, ymax = _yolo_box(datasets_root, path, image.shape[1], image.shape[0])
        cx, cy = hand.pixels(image.shape[1], image.shape[0]).mean(axis=0)
        assert xmin <= cx <= xmax and ymin <= cy <= ymax
    untinted.close()
    tinting.close()


def test_refinement_refits_and_each_image_starts_afresh(datasets_root):
    first = read_image(datasets_root / FOUND_PLAIN)
    other = read_image(datasets_root / "massey/asl_dataset/l/hand1_l_bot_seg_1_cropped.jpeg")
    with HandDetector(attempts=["plain"], refine_steps=0) as once, HandDetector(attempts=["plain"]) as refined:
        single = once.detect(first)
        a = refined.detect(first)
        assert a is not None and single is not None
        # Refitting inside the landmarks' own box moves the points, but not far (pixels of 400x400).
        shift = np.abs(a.pixels(400, 400) - single.pixels(400, 400)).max()
        assert 0.05 < shift < 40
        assert refined.detect(other) is not None
        # A new image does not inherit the previous image's track: same answer as the first time.
        again = refined.detect(first)
        assert np.allclose(again.landmarks, a.landmarks, atol=1e-6)
    with pytest.raises(FingerspellError, match="refine_steps"):
        HandDetector(refine_steps=9)


def _sign_mnist_test_row(datasets_root, index: int) -> tuple[int, np.ndarray]:
    import gzip

    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as f:
        next(f)
        for i, line in enumerate(f):
            if i == index:
                values = np.array(line.split(","), dtype=np.uint8)
                return int(values[0]), values[1:].reshape(28, 28)
    raise AssertionError(f"no row {index}")


def test_a_tiny_hand_crop_the_palm_detector_misses_is_found_by_the_whole_image_attempt(datasets_root):
    from fingerspell.hands.detector import SMALL_ATTEMPTS

    label, image = _sign_mnist_test_row(datasets_root, 6)  # K, 28x28 grey
    assert label == 10
    palm_attempts = [a for a in SMALL_ATTEMPTS if not a.endswith("whole")]
    with HandDetector(attempts=palm_attempts) as palm_only, HandDetector() as default:
        assert palm_only.detect(image) is None
        hand = default.detect(image)
        assert hand is not None and hand.method == "whole"
        assert ((hand.landmarks[:, :2] >= -0.05) & (hand.landmarks[:, :2] <= 1.05)).all()
        # The reference hand's track is dropped afterwards: the same image, the same answer.
        assert np.allclose(default.detect(image).landmarks, hand.landmarks, atol=1e-6)
    # The landmark model still has to see a hand: flat grey, noise and black give none.
    with HandDetector(attempts=["whole"]) as whole:
        for blank in (np.full((28, 28), 128, np.uint8), np.zeros((28, 28), np.uint8),
                      np.random.default_rng(0).integers(0, 255, (28, 28), dtype=np.uint8)):
            assert whole.detect(blank) is None


def test_a_tiny_hand_turned_away_from_the_reference_is_found_by_a_rotated_mirrored_whole_attempt(datasets_root):
    from fingerspell.hands.detector import SMALL_ATTEMPTS

    label, image = _sign_mnist_test_row(datasets_root, 2386)  # P, 28x28 grey
    assert label == 15
    unrotated_chain = [a for a in SMALL_ATTEMPTS if not a.endswith("whole")] + ["whole"]
    with HandDetector(attempts=unrotated_chain) as unrotated, HandDetector() as default:
        assert unrotated.detect(image) is None
        hand = default.detect(image)
    assert hand is not None and hand.method == "flip-rot30-whole"
    # The view of `flip-rot30-whole` is exactly the view `rot30-whole` makes of the mirrored
    # image, so the landmarks mapped back to each original must be mirror images of each other,
    # with the handedness swapped (to a third of a pixel: resampling differs slightly).
    with HandDetector(attempts=["rot30-whole"]) as rotated:
        mirrored = rotated.detect(np.ascontiguousarray(image[:, ::-1]))
    assert mirrored is not None
    assert np.allclose(mirrored.landmarks[:, 0], 1.0 - hand.landmarks[:, 0], atol=0.012)
    assert np.allclose(mirrored.landmarks[:, 1], hand.landmarks[:, 1], atol=0.012)
    assert {mirrored.handedness, hand.handedness} == {"Left", "Right"}


# A colour asl-letters photo whose hand the palm detector boxes loosely once the photo is a
# small part of a larger frame.
FAR_PHOTO = "asl-letters/train/images/A12_jpg.rf.84c6afc718de92ea268db5d3902ca2ba.jpg"
ROOM = "asl-alphabet/asl_alphabet_train/nothing/nothing1001.jpg"


def test_a_hand_small_in_a_large_frame_is_looked_at_again_in_a_crop_around_it(datasets_root):
    """The zoom: the same photo pasted into a frame 3x as wide (a signer further away) gives
    the landmarks of the close-up photo once the hand is re-detected in a crop around it;
    without the zoom they are off by several pixels. Coordinates are the large frame's."""
    photo = read_image(datasets_root / FAR_PHOTO)
    h, w = photo.shape[:2]
    frame = cv2.resize(read_image(datasets_root / ROOM), (3 * w, 9 * w // 4))
    x, y = w, h // 2
    frame[y:y + h, x:x + w] = photo
    with HandDetector() as zoomed, HandDetector(zoom=0) as unzoomed:
        close_up = zoomed.detect(photo)
        far, far_unzoomed = zoomed.detect(frame), unzoomed.detect(frame)
    assert close_up is not None and far is not None and far_unzoomed is not None
    assert not close_up.method.startswith("zoom")  # the hand is large in its own photo: no zoom
    assert far.method.startswith("zoom-") and not far_unzoomed.method.startswith("zoom")

    def error(hand: Hand) -> float:  # mean pixel distance to the close-up's landmarks
        in_photo = hand.pixels(frame.shape[1], frame.shape[0]) - [x, y]
        return float(np.abs(in_photo - close_up.pixels(w, h)).mean())

    assert error(far) < 2.0 and error(far_unzoomed) > 3 * max(error(far), 1.0)
    # z is rescaled to the large frame's width: same hand, same depth in pixels.
    depth = far.landmarks[:, 2] * frame.shape[1]
    assert np.abs(depth - close_up.landmarks[:, 2] * w).mean() < 2.0
    bx0, by0, bx1, by1 = far.box
    cx0, cy0, cx1, cy1 = close_up.box
    assert np.allclose([bx0 - x, by0 - y, bx1 - x, by1 - y], [cx0, cy0, cx1, cy1], atol=4.0)
