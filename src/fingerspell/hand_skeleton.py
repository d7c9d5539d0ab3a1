"""MediaPipe Hands' 21-point skeleton, shared by every module that draws a hand.

Wrist 0, then four joints per finger: thumb 1-4, index 5-8, middle 9-12, ring 13-16,
little 17-20. Written out here (not taken from mediapipe) so drawing never imports it.
"""
from __future__ import annotations

HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
