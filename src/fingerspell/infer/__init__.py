"""Recognise letters anywhere: images, folders, globs, videos, cameras, arrays.

    from fingerspell.infer import Predictor
    for p in Predictor().predict("clip.mp4"):
        print(p.frame_index, p.letter, p.text)

`Predictor` (predictor.py) runs a bundle (ONNX + manifest) behind MediaPipe hands;
`open_source` (sources.py) decides what a source is; `Spelling` (spelling.py, the same rules as
the browser's spelling.js) turns a video's frames into text; `run_prediction` (batch.py) is
`fingerspell predict`. `LetterSmoother` / `Speller` are the rules before issue 13, kept as the
baseline of bench/bench_spelling.py. Nothing here imports torch.
"""
from fingerspell.infer.predictor import Prediction, Predictor
from fingerspell.infer.smoothing import LetterSmoother
from fingerspell.infer.sources import Frame, open_source
from fingerspell.infer.speller import Speller
from fingerspell.infer.spelling import Commit, Spelling

__all__ = ["Commit", "Frame", "LetterSmoother", "Prediction", "Predictor", "Speller", "Spelling", "open_source"]
