"""Classification metrics from predicted probabilities, in NumPy (no torch needed)."""
from __future__ import annotations

from typing import Any

import numpy as np


def top_k_accuracy(probs: np.ndarray, y: np.ndarray, k: int) -> float:
    if len(y) == 0:
        return float("nan")
    k = min(k, probs.shape[1])
    top = np.argsort(-probs, axis=1)[:, :k]
    return float((top == y[:, None]).any(axis=1).mean())


def confusion_matrix(y: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y, pred), 1)
    return matrix


def per_class(matrix: np.ndarray, labels: list[str], rows: list[int], y: np.ndarray, pred: np.ndarray, conf: np.ndarray,
              threshold: float = 0.5) -> list[dict[str, Any]]:
    """Precision, recall, F1, support, and the Datature-style "correct at >= threshold
    confidence" count for each class index in `rows`."""
    out = []
    for c in rows:
        tp = int(matrix[c, c])
        support = int(matrix[c].sum())
        predicted = int(matrix[:, c].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        confident = int(((y == c) & (pred == c) & (conf >= threshold)).sum())
        out.append({"letter": labels[c], "precision": precision, "recall": recall, "f1": f1, "support": support,
                    "predicted": predicted, "correct_confident": confident,
                    "correct_confident_pct": confident / support if support else 0.0})
    return out


def confused_pairs(matrix: np.ndarray, labels: list[str], top: int = 10) -> list[dict[str, Any]]:
    """The largest off-diagonal cells: (true, predicted, count, share of the true letter)."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None)[:top]
    pairs = []
    for index in flat:
        t, p = np.unravel_index(index, off.shape)
        if off[t, p] == 0:
            break
        pairs.append({"true": labels[t], "predicted": labels[p], "count": int(off[t, p]),
                      "share": float(off[t, p] / max(1, matrix[t].sum()))})
    return pairs
