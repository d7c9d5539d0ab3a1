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
asl-landmarks frame) and the first 3 Massey photos of J and Z per signer; not asl-letters / asl-alphabet, which the shipped model also saw, so
the held-out classifiers are weaker than a shipped model trained without the signer would
be). Recipe: the shipped model's (`FULL_RECIPE`). Each model's temperature is fitted the way the bundle's
is, on out-of-fold logits of ITS OWN training groups (leave one signer out: each logit from a
model trained without that signer), never on the material it then scores.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPORT_SIGNERS = ("hand3", "hand4")


class TorchLandmarkModel:
    """A landmark model in memory, with the interface of spelling_data.LandmarkModel."""

    def __init__(self, model: Any, labels: list[str], temperature: float, trained_on: str):
        self.model, self.labels, self.temperature, self.trained_on = model, labels, temperature, trained_on

    def probabilities(self, frames: list[dict[str, Any]], temperature: float | None = None) -> list[list[float] | None]:
        import torch

        from fingerspell.infer.spelling_data import frame_probabilities

        def logits_of(feats: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return self.model(torch.as_tensor(feats)).numpy()

        return frame_probabilities(frames, logits_of, self.temperature if temperature is None else temperature)


def _cache_key(part: Any, labels: list[str], recipe: Any) -> str:
    """A digest of what a fold's model is trained on and how (the cache is reused only for the same)."""
    digest = hashlib.sha256()
    for array in (part.points, part.labels.astype(str), part.groups.astype(str), part.found):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps([labels, recipe.to_dict()], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def held_out_models(labels: list[str], takes_file: Path, poses: list, cache: Path | None = None,
                    log: Callable[[str], None] = print) -> dict[str, TorchLandmarkModel]:
    """{"asl-landmarks": model for streams of takes, "massey": model for streams of photos}.
    With `cache` (a folder), each fold's weights and temperature are kept in
    held-out-<fold>.pt (read back with torch.load(weights_only=True): tensors and numbers only)
    and reused while the training material and recipe are the same."""
    import torch

    from fingerspell.evaluate.calibration import fit_temperature, out_of_fold_logits
    from fingerspell.evaluate.landmark_fit import FULL_RECIPE, fit_landmark_model
    from fingerspell.atomic import write_bytes
    from fingerspell.infer.spelling_data import massey_poses
    from fingerspell.models import create_model
    from train_spelling import landmark_set

    torch.set_num_threads(1)  # as bench/train_spelling.py: the same arithmetic, results repeat
    # Massey's static J and Z photos too (the shipped model knows J and Z shapes from its data; the
    # bench's poses are static letters only). Their own cache: the bench's poses stay as they are.
    massey = takes_file.parents[1] / "massey" / "asl_dataset"
    signers = tuple(sorted({p.signer for p in poses}))
    extra = massey_poses(massey, "JZ", signers, 3, cache=None if cache is None else cache / "massey-poses-jz.npz")
    data, sources = landmark_set(takes_file, list(poses) + extra)
    keep_letters = np.isin(data.labels, labels)
    folds = {
        "asl-landmarks": (sources != "asl-landmarks", "without any asl-landmarks frame"),
        "massey": (~np.isin(data.groups, REPORT_SIGNERS), f"without Massey {', '.join(REPORT_SIGNERS)}"),
    }
    out = {}
    for name, (train, what) in folds.items():
        part = data.subset(train & keep_letters)
        part_sources = sources[train & keep_letters]
        key = _cache_key(part, labels, FULL_RECIPE)
        path = None if cache is None else cache / f"held-out-{name}.pt"
        if path is not None and path.is_file():
            saved = torch.load(path, weights_only=True)
            if saved.get("key") == key:
                model = create_model(FULL_RECIPE.model, len(labels))
                model.load_state_dict(saved["state"])
                model.eval()
                log(f"held-out model for {name} streams: {path} (T = {float(saved['temperature']):.3f})")
                out[name] = TorchLandmarkModel(model, list(labels), float(saved["temperature"]), what)
                continue
        # Temperature: leave one of the fold's own training signers out at a time.
        logits, y, _ = out_of_fold_logits(part, labels, FULL_RECIPE, part_sources, log=log)
        temperature = fit_temperature(logits, y)
        model = fit_landmark_model(part, labels, FULL_RECIPE, part_sources)
        log(f"held-out model for {name} streams: trained {what} on {int(part.found.sum())} hands, T = {temperature:.3f}")
        if path is not None:
            buffer = io.BytesIO()
            torch.save({"key": key, "temperature": float(temperature), "state": model.state_dict()}, buffer)
            write_bytes(path, buffer.getvalue())
        out[name] = TorchLandmarkModel(model, list(labels), temperature, what)
    return out

