"""Hands: find one hand in an image and its 21 MediaPipe landmarks (`HandDetector`, `Hand`).

Importing this package does not start MediaPipe; the first `detect` call does.
"""
from fingerspell.hands.detector import Hand, HandDetector

__all__ = ["Hand", "HandDetector"]
