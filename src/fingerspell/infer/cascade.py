"""The still-image cascade: the fast path first, the full path only when its answer is uncertain.

Reading a still image through the full path (robust detection + landmark refinement + the
bundle's test-time views, probabilities averaged) costs about six times the fast path (one
robust detection, no refinement): measured with `bench/bench_folder.py`. Most photos are easy,
so `cascade_frame` answers from the fast path and runs the full path only when the fast answer's
calibrated top probability (softmax(logits / still.temperature_fast)) is under the bundle's
`still.escalate_below`, a bar fitted on unseen-signer folds (`bench/fit_still.py`) as the
lowest one that keeps the full path's top-1. An image where the fast path finds no hand is not
escalated: the full path runs the same detection chain and would not find one either.

The answer of an escalated image is the full path's (its probabilities averaged over views with
`still.temperature_full`); its timings add both paths'. `Prediction.escalated` says which.
"""
from __future__ import annotations

from typing import Any

from fingerspell.infer.prediction import Prediction
from fingerspell.infer.sources import Frame


def needs_full_path(prediction: Prediction, bar: float) -> bool:
    """True when the fast answer found a hand and its top probability is under `bar`."""
    if not prediction.hand or prediction.probabilities is None or not len(prediction.probabilities):
        return False
    return float(prediction.probabilities.max()) < bar


def cascade_frame(predictor: Any, frame: Frame, keep_image: bool = False) -> Prediction:
    """One still image through the cascade with `predictor` (a `Predictor`; typed loosely
    because the predictor imports this module). Raises what `Predictor.predict_once` raises."""
    still = predictor.still_params
    fast = predictor.predict_once(frame, "image", keep_image, views=False, refine=False,
                                  temperature=still.temperature_fast)
    if not needs_full_path(fast, still.escalate_below):
        fast.escalated = False
        return fast
    full = predictor.predict_once(frame, "image", keep_image, views=True, refine=True,
                                  temperature=still.temperature_full)
    for stage, ms in fast.timings.items():
        if stage != "decode":  # the frame was decoded once
            full.timings[stage] = full.timings.get(stage, 0.0) + ms
    if not full.hand:  # the refined chain lost the hand the fast one found: keep the fast answer
        fast.escalated = True
        fast.timings = full.timings
        return fast
    full.escalated = True
    return full
