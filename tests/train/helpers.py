"""Tiny real datasets for the training tests, built straight from ../shared/datasets."""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from fingerspell.data.index import Dataset, SampleRecord

SIGN_MNIST_LETTERS = [chr(ord("A") + i) for i in range(26) if chr(ord("A") + i) not in "JZ"]


def sign_mnist_rows(datasets_root: Path, split: str, per_class: int, classes: int = 24) -> list[SampleRecord]:
    """The first `per_class` rows of each of the first `classes` letters of a Sign-MNIST CSV."""
    path = datasets_root / "sign-mnist" / f"sign_mnist_{split}.csv.gz"
    wanted = set(SIGN_MNIST_LETTERS[:classes])
    counts: dict[str, int] = {}
    records = []
    with gzip.open(path, "rt") as handle:
        next(handle)
        for line_no, line in enumerate(handle, start=2):
            values = [int(v) for v in line.split(",")]
            letter = chr(ord("A") + values[0])
            if letter not in wanted or counts.get(letter, 0) >= per_class:
                continue
            counts[letter] = counts.get(letter, 0) + 1
            pixels = bytes(values[1:])
            records.append(SampleRecord(source=path.name, row=line_no, label=letter, split=split, width=28, height=28,
                                        hash=hashlib.sha256(pixels).hexdigest(), pixels=pixels))
            if len(counts) == len(wanted) and all(c >= per_class for c in counts.values()):
                break
    return records


def make_sign_mnist(datasets_root: Path, name: str = "mnist-tiny", train_per_class: int = 12, test_per_class: int = 4,
                    classes: int = 24) -> Dataset:
    """A Sign-MNIST index with real rows: train and test splits, no val split."""
    records = sign_mnist_rows(datasets_root, "train", train_per_class, classes) + sign_mnist_rows(datasets_root, "test", test_per_class, classes)
    return Dataset.create(name, root=datasets_root / "sign-mnist", format="sign-mnist",
                          classes=SIGN_MNIST_LETTERS[:classes], records=records)


def make_alphabet(datasets_root: Path, name: str = "alphabet-tiny", letters: str = "ABCDEFGHIK", per_class: int = 24) -> Dataset:
    """A few real ASL Alphabet photos per letter; the first 3/4 train, the rest test."""
    root = datasets_root / "asl-alphabet" / "asl_alphabet_train"
    records = []
    for letter in letters:
        files = sorted((root / letter).glob("*.jpg"), key=lambda p: int(p.stem[len(letter):] or 0))[:per_class]
        for k, f in enumerate(files):
            records.append(SampleRecord(source=str(f.relative_to(root)), label=letter, split="train" if k < per_class * 3 // 4 else "test",
                                        width=200, height=200))
    return Dataset.create(name, root=root, format="folders", classes=list(letters), records=records)


def make_landmarks(datasets_root: Path, name: str = "landmarks-tiny", letters: str = "ABCDE", per_class: int = 40) -> Dataset:
    """Real MediaPipe landmark rows from asl-landmarks: the first `per_class` of each letter,
    3/4 train and 1/4 test."""
    import numpy as np

    data = np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False)
    points, labels = data["x"], data["y"]
    records = []
    for letter in letters:
        rows = np.flatnonzero(labels == letter)[:per_class]
        for k, row in enumerate(rows):
            records.append(SampleRecord(source="landmarks.npz", row=int(row) + 1, label=letter,
                                        split="train" if k < per_class * 3 // 4 else "test",
                                        hash=hashlib.sha256(points[row].tobytes()).hexdigest(), landmarks=points[row]))
    return Dataset.create(name, root=datasets_root / "asl-landmarks", format="landmarks", classes=list(letters), records=records)
