"""fingerspell: recognise the American Sign Language alphabet from photos, video and a webcam."""
import os

# albumentations tries the network at import unless told not to (see ../shared/STACK.md).
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
