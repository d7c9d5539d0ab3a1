"""Held-out classifiers for bench_spelling.py --held-out: the spelling bench as an unseen signer sees it.

The shipped model was trained on every photo and take the spelling bench streams are built
from, so its numbers describe the rules given a classifier that has seen the signer. Here each
stream is scored by a classifier that never saw that stream's signer:

- streams of asl-landmarks takes (one webcam signer): a model trained WITHOUT any asl-landmarks
  frame (not even the tune takes: same person), i.e. on the Massey photos' landmarks;
- streams of Massey photos (report signers hand3, hand4): a model trained without hand3 and
  hand4, i.e. on Massey hand1-hand2 and every asl-landmarks frame.

Training material: what bench/train_spelling.py calibrates on (Massey hand1-hand4, the first
3 photos of each static letter, detected as the bundle detects still images, and every
asl-landmarks frame), plus, with `home`, the asl-letters and asl-alphabet landmark sets of a
FINGERSPELL_HOME in which they are imported and extracted (other signers again). Recipe:
the shipped model's (`FULL_RECIPE`). Each model's temperature is fitted the way the bundle's
is, on out-of-fold logits of ITS OWN training groups (leave one signer out: each logit from a
model trained without that signer), never on the material it then scores.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPORT_SIGNERS = ("hand3", "hand4")
EXTRA_SETS = ("asl-letters", "asl-alphabet")


class TorchLandmarkModel:
    """A landmark model in memory, with the interface of spelling_data.LandmarkModel."""

    def __init__(self, model: Any, labels: list[str], temperature: float, trained_on: str):
        self.model, self.labels, self.temperature, self.trained_on = model, labels, temperature, trained_on

    def probabilities(self, frames: list[dict[str, Any]], temperature: float | None = None) -> list[list[float] | None]:
        import torch

        from fingerspell.hands.features import landmark_features_batch

        temp = self.temperature if temperature is None else temperature
        rows = [i for i, f in enumerate(frames) if f["landmarks"] is not None]
        out: list[list[float] | None] = [None] * len(frames)
        if not rows:
            return out
        points = np.asarray([frames[i]["landmarks"] for i in rows], dtype=np.float32)
        feats = landmark_features_batch(points, [frames[i]["handedness"] for i in rows], tuple(frames[rows[0]]["size"]))
        with torch.no_grad():
            logits = self.model(torch.as_tensor(feats)).numpy().astype(np.float64) / temp
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        for i, p in zip(rows, probs):
            out[i] = p.tolist()
        return out


def training_material(takes_file: Path, poses: list, home: Path | None, log: Callable[[str], None]) -> tuple:
    """(LandmarkSet, sources [N]): Massey poses + asl-landmarks frames (+ the extra sets of `home`)."""
    from train_spelling import landmark_set

    from fingerspell.evaluate.landmark_sets import LandmarkSet, load_landmark_set

    data, sources = landmark_set(takes_file, poses)
    if home is None:
        return data, sources
    os.environ["FINGERSPELL_HOME"] = str(home)
    parts, names = [data], [sources]
    for name in EXTRA_SETS:
        extra = load_landmark_set(name).without_views()
        # Groups must not collide with the Massey signers' names; tag them with the set.
        extra = LandmarkSet(extra.name, extra.labels, np.char.add(f"{name}:", extra.groups.astype(str)), extra.points,
                            extra.handedness, extra.image_size, extra.found)
        log(f"  + {name}: {int(extra.found.sum())} hands")
        parts.append(extra)
        names.append(np.full(len(extra), name))
    return LandmarkSet.concat(parts, "spelling-held-out"), np.concatenate(names)


def held_out_models(labels: list[str], takes_file: Path, poses: list, home: Path | None = None,
                    log: Callable[[str], None] = print) -> dict[str, TorchLandmarkModel]:
    """{"asl-landmarks": model for streams of takes, "massey": model for streams of photos}."""
    import torch

    from fingerspell.evaluate.calibration import fit_temperature, out_of_fold_logits
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE, fit_landmark_model

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    data, sources = training_material(takes_file, poses, home, log)
    keep_letters = np.isin(data.labels, labels)
    folds = {
        "asl-landmarks": (sources != "asl-landmarks", "without any asl-landmarks frame"),
        "massey": (~np.isin(data.groups, REPORT_SIGNERS), f"without Massey {', '.join(REPORT_SIGNERS)}"),
    }
    out = {}
    for name, (train, what) in folds.items():
        part = data.subset(train & keep_letters)
        part_sources = sources[train & keep_letters]
        # Calibration groups: the signers of the training part; the extra sets count as one group each
        # (their photos' signers are not recorded) so a fold never holds out a sliver.
        groups = np.where(np.isin(part_sources, EXTRA_SETS), part_sources, part.groups)
        calib = type(part)(part.name, part.labels, groups, part.points, part.handedness, part.image_size, part.found)
        logits, y, _ = out_of_fold_logits(calib, labels, FULL_RECIPE, part_sources, log=log)
        temperature = fit_temperature(logits, y)
        model = fit_landmark_model(part, labels, FULL_RECIPE, part_sources)
        log(f"held-out model for {name} streams: trained {what} on {int(part.found.sum())} hands, T = {temperature:.3f}")
        out[name] = TorchLandmarkModel(model, list(labels), temperature, what)
    return out

