"""Video and camera streams through the predictor and the spelling rules.

`Predictor.predict` hands streams (video files, cameras) to `spell_stream`: every frame is
tracked (MediaPipe in video mode), classified, and pushed with its time, calibrated
probabilities and landmarks into `Spelling` (the rules the browser runs too). Each
`Prediction` then carries the stable letter, its averaged probability, the text so far and
what this frame committed.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fingerspell.infer.prediction import Prediction
from fingerspell.infer.sources import Source
from fingerspell.infer.spelling import Spelling


def spell_stream(predictor: Any, src: Source, keep_image: bool, limit: int | None) -> Iterator[Prediction]:
    """Predictions for each frame of a stream, spelled. `predictor` is the `Predictor` that
    calls this (typed loosely: the predictor imports this module). The Spelling object is kept as
    `predictor.last_speller` (text, letters()) so a caller that stops early can read the text.

    Raises BundleError for malformed spelling parameters.
    """
    mode = "image" if predictor.mode == "image" else "video"
    fps = src.fps or 30.0
    predictor.reset_stream()
    params: dict[str, Any] = {**predictor.bundle.spelling.to_dict(), **predictor.spelling_options}
    if "threshold" not in predictor.spelling_options and predictor.conf is not None:
        params["threshold"] = predictor.conf  # --conf is the calibrated probability a letter needs
    speller = Spelling(predictor.labels, params)
    predictor.last_speller, predictor.last_fps = speller, fps
    for frame in src:
        if limit and frame.index >= limit:
            break
        prediction = predictor.predict_frame(frame, mode=mode, keep_image=keep_image, views=False)
        t = time.perf_counter()
        moment = frame.timestamp if frame.timestamp is not None else frame.index / fps
        step = speller.push(moment, None if prediction.probabilities is None else prediction.probabilities.tolist(),
                            None if prediction.landmarks is None else prediction.landmarks.tolist(),
                            prediction.handedness, prediction.image_size, frame=frame.index)
        prediction.letter = step.letter
        prediction.confidence = step.confidence
        prediction.text = step.text
        prediction.commits = step.committed
        smoothing_ms = (time.perf_counter() - t) * 1000
        prediction.timings["smoothing"] = smoothing_ms
        prediction.timings["total"] += smoothing_ms
        yield prediction
