"""Turn 21 MediaPipe hand landmarks into a fixed-length feature vector for a letter classifier.

The recipe (named by `FEATURES_VERSION`, which every landmark bundle records) is:

1. **Un-squash.** MediaPipe reports x and y normalised to the image's width and height and z
   on the same scale as x. Multiplying by (w, h, w) puts all three axes in pixels, so a hand
   in a 16:9 webcam frame has the same shape as in a square photo.
2. **Mirror left onto right.** A left hand is the mirror image of a right hand, so hands
   MediaPipe labels "Right" have x negated; afterwards every hand has one chirality and a
   left-handed signer is recognised by the same classifier. MediaPipe's label assumes a
   mirrored (selfie) image, so on an ordinary photo a signer's *right* hand comes out "Left":
   measured on the shared sets, 98.9% of Massey's hands (four right-handed signers, photos
   not mirrored) are labelled "Left"; asl-letters is about half and half (its augmented copies
   include left-right flips); the asl-landmarks webcam set has no label and its 3-D shape
   says "Right" for 99% (a mirrored preview). "Left" is kept as it is, so un-mirrored photos
   of right-handed signers pass through untouched. Because a mirrored image also swaps
   MediaPipe's label, mirroring an image (a selfie preview, say) gives *identical*
   features - the tests check this on real landmarks.
3. **Wrist-centred, scale-normalised.** Coordinates relative to the wrist, divided by the
   palm size (mean 3-D length of wrist->index MCP, wrist->middle MCP, wrist->pinky MCP and
   index MCP->pinky MCP), so distance from the camera and image resolution drop out.
4. **Two frames.** The points in the image frame keep the hand's orientation (H vs U, G vs
   Q, K vs P differ mainly by which way the hand points); the same points in the palm's own
   frame (axes: wrist->middle MCP, palm normal) give the hand shape independent of rotation.
5. **Angles and distances.** Flexion angle at each finger joint (15), all pairwise distances
   between the 21 points (210: fingertip-to-thumb contacts tell M/N/T/S/E/A apart), the unit
   direction of each finger (tip - MCP) and of the palm (normal and wrist->middle MCP) in the
   image frame (21).

Total: 63 + 63 + 15 + 210 + 21 = 372 float32 values (`FEATURE_SIZE`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fingerspell.errors import FingerspellError

FEATURES_VERSION = "lm-v1"

# MediaPipe landmark indices.
WRIST = 0
THUMB = (1, 2, 3, 4)
INDEX = (5, 6, 7, 8)
MIDDLE = (9, 10, 11, 12)
RING = (13, 14, 15, 16)
PINKY = (17, 18, 19, 20)
FINGERS = (THUMB, INDEX, MIDDLE, RING, PINKY)
TIPS = (4, 8, 12, 16, 20)

# The handedness label (as MediaPipe reports it for the image given) whose hands are mirrored.
MIRRORED_HANDEDNESS = "Right"

_PAIR_I, _PAIR_J = np.triu_indices(21, k=1)
# (previous, joint, next) triples for the 15 finger-joint angles.
_JOINTS = np.array(
    [(f[k - 1] if k > 0 else WRIST, f[k], f[k + 1]) for f in FINGERS for k in range(3)], dtype=np.int64
)
FEATURE_SIZE = 63 + 63 + 15 + len(_PAIR_I) + 21

_EPS = 1e-6


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def handedness_from_geometry(points: np.ndarray) -> np.ndarray:
    """Guess MediaPipe's handedness label from the 3-D shape of the landmarks: str [N].

    MediaPipe fits the 21 points jointly with its handedness output, so the chirality of the
    3-D point set agrees with the label: the thumb's CMC joint lies on the side of the palm
    plane given by the normal (index MCP - wrist) x (pinky MCP - wrist) for hands labelled
    "Left" (99.4% of Massey's "Left" hands) and on the other side for "Right" ones. Used for
    landmark-only datasets that carry no label. `points` are in pixels or any axes with
    the same orientation as MediaPipe's (x right, y down, z away).
    """
    p = np.asarray(points, dtype=np.float64)
    p = p - p[:, WRIST : WRIST + 1, :]
    side = np.sum(np.cross(p[:, 5], p[:, 17]) * p[:, 1], axis=-1)
    return np.where(side > 0, "Left", "Right")


def mirror_mask(handedness: Sequence[str | None] | np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
    """Boolean [N]: which hands the recipe mirrors (those labelled `MIRRORED_HANDEDNESS`).

    Unknown handedness (None or "") is guessed from `points` by `handedness_from_geometry`
    (left as it is when no points are given). Raises FingerspellError for any other value.
    """
    labels = np.asarray(["" if h is None else str(h) for h in handedness], dtype="<U5")
    bad = ~np.isin(labels, ("Left", "Right", ""))
    if bad.any():
        raise FingerspellError(f"handedness must be 'Left' or 'Right', got {labels[bad][0]!r}")
    unknown = labels == ""
    if unknown.any() and points is not None:
        labels[unknown] = handedness_from_geometry(np.asarray(points)[unknown])
    return labels == MIRRORED_HANDEDNESS


def landmark_features_batch(
    points: np.ndarray,
    handedness: Sequence[str | None] | np.ndarray,
    image_size: tuple[int, int] | np.ndarray = (1, 1),
) -> np.ndarray:
    """Features for N hands: points float [N, 21, 3] -> float32 [N, FEATURE_SIZE].

    points: MediaPipe landmarks (x, y normalised to the image, z relative depth).
    handedness: N labels "Left"/"Right" as MediaPipe gave them (None = unknown: guessed from
        the 3-D shape by `handedness_from_geometry`).
    image_size: (width, height) for all hands, or an [N, 2] array of per-hand sizes.

    Raises FingerspellError when the shapes are wrong or the points are not finite.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (21, 3):
        raise FingerspellError(f"landmarks must have shape [N, 21, 3], got {list(pts.shape)}")
    n = pts.shape[0]
    if len(handedness) != n:
        raise FingerspellError(f"got {len(handedness)} handedness labels for {n} hands")
    if not np.isfinite(pts).all():
        raise FingerspellError("landmarks contain NaN or infinite values")
    size = np.asarray(image_size, dtype=np.float64)
    if size.shape == (2,):
        size = np.broadcast_to(size, (n, 2))
    if size.shape != (n, 2) or (size <= 0).any():
        raise FingerspellError(f"image_size must be (width, height) > 0 or an [N, 2] array, got {size.shape}")

    # 1. Pixels: z is on x's scale in MediaPipe's output.
    scale = np.stack([size[:, 0], size[:, 1], size[:, 0]], axis=1)[:, None, :]
    p = pts * scale
    # 2. One chirality.
    flip = mirror_mask(handedness, p)
    p[flip, :, 0] *= -1.0
    # 3. Wrist-centred, palm-size-normalised.
    p = p - p[:, WRIST : WRIST + 1, :]
    palm = (
        np.linalg.norm(p[:, 5], axis=1)
        + np.linalg.norm(p[:, 9], axis=1)
        + np.linalg.norm(p[:, 17], axis=1)
        + np.linalg.norm(p[:, 5] - p[:, 17], axis=1)
    ) / 4.0
    p = p / np.maximum(palm, _EPS)[:, None, None]

    # 4. Palm frame: up = wrist->middle MCP, normal = (index MCP x pinky MCP), side = normal x up.
    up = _unit(p[:, 9])
    normal = _unit(np.cross(p[:, 5], p[:, 17]))
    side = _unit(np.cross(up, normal))
    normal = np.cross(side, up)  # exactly orthogonal even when the palm is seen edge-on
    frame = np.stack([side, up, normal], axis=1)  # [N, 3, 3], rows are the axes
    local = np.einsum("nij,nkj->nki", frame, p)

    # 5. Angles, distances, directions.
    a, b, c = p[:, _JOINTS[:, 0]], p[:, _JOINTS[:, 1]], p[:, _JOINTS[:, 2]]
    cos = np.sum(_unit(a - b) * _unit(c - b), axis=-1)
    angles = np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi
    distances = np.linalg.norm(p[:, _PAIR_I] - p[:, _PAIR_J], axis=-1)
    fingers = _unit(p[:, list(TIPS)] - p[:, [f[0] if f is not THUMB else 2 for f in FINGERS]])

    features = np.concatenate(
        [
            p.reshape(n, 63),
            local.reshape(n, 63),
            angles,
            distances,
            fingers.reshape(n, 15),
            normal,
            up,
        ],
        axis=1,
    )
    return features.astype(np.float32)


def landmark_features(
    points: np.ndarray, handedness: str | None, image_size: tuple[int, int] = (1, 1)
) -> np.ndarray:
    """Features for one hand: points [21, 3] -> float32 [FEATURE_SIZE].

    Raises FingerspellError for a wrong shape, non-finite points or an unknown handedness.
    """
    pts = np.asarray(points)
    if pts.shape != (21, 3):
        raise FingerspellError(f"landmarks must have shape [21, 3], got {list(pts.shape)}")
    return landmark_features_batch(pts[None], [handedness], image_size)[0]
