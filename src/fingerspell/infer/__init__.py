"""Recognise letters anywhere: images, folders, globs, videos, cameras, arrays.

    from fingerspell.infer import Predictor
    for p in Predictor().predict("clip.mp4"):
        print(p.frame_index, p.letter, p.text)

`Predictor` (predictor.py) runs a bundle (ONNX + manifest) behind MediaPipe hands;
`open_source` (sources.py) decides what a source is; `LetterSmoother` (smoothing.py) keeps a
video's letter steady; `Speller` (speller.py) turns it into text; `run_prediction` (batch.py)
is `fingerspell predict`. Nothing here imports torch.
"""
from fingerspell.infer.predictor import Prediction, Predictor
from fingerspell.infer.smoothing import LetterSmoother
from fingerspell.infer.sources import Frame, open_source
from fingerspell.infer.speller import Commit, Speller

__all__ = ["Commit", "Frame", "LetterSmoother", "Prediction", "Predictor", "Speller", "open_source"]
