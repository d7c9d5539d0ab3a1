"""Small copies of the shared datasets for `fingerspell bench accuracy --quick` (CI): a spread
of each dataset's files in its own layout, chosen by what the file names say (Massey's
signer, asl-letters' source photo)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fingerspell.evaluate.landmark_sets import LETTERS, canonical_label


def quick_subset(name: str, source: Path, target: Path) -> Path:
    """A small copy of a shared dataset in its own layout: a spread of its files (copied: the
    importers keep paths relative to the dataset root, so links out of it are refused)."""
    import shutil

    if target.exists():
        shutil.rmtree(target)
    if name == "asl-landmarks":
        with np.load(source, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
        picks = np.concatenate([np.flatnonzero(y == letter)[::20][:20] for letter in np.unique(y)])
        target.mkdir(parents=True)
        np.savez(target / "landmarks.npz", x=x[picks], y=y[picks])
        return target / "landmarks.npz"
    if name == "asl-letters":
        images = sorted((source / "train" / "images").glob("*.jpg"))
        by_photo: dict[str, list[Path]] = {}
        for image in images:
            by_photo.setdefault(image.name.split("_jpg")[0], []).append(image)
        per_letter: dict[str, list[str]] = {}
        for photo in sorted(by_photo, key=lambda p: (p[0], int("".join(c for c in p[1:] if c.isdigit()) or 0))):
            per_letter.setdefault(photo[0].upper(), []).append(photo)
        chosen = [p for photos in per_letter.values() for p in photos[:5]]
        (target / "train" / "images").mkdir(parents=True)
        (target / "train" / "labels").mkdir(parents=True)
        shutil.copy(source / "data.yaml", target / "data.yaml")
        for photo in chosen:
            image = by_photo[photo][0]  # one copy per photo keeps it small
            shutil.copyfile(image, target / "train" / "images" / image.name)
            label = source / "train" / "labels" / (image.stem + ".txt")
            shutil.copyfile(label, target / "train" / "labels" / label.name)
        return target
    # class folders: massey/<class>/hand<N>_..., asl-alphabet/<class>/<class><n>.jpg
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        if canonical_label(folder.name) not in LETTERS:
            continue
        files = sorted(folder.iterdir())
        if name == "massey":  # two per signer and letter, from different lights
            by_signer: dict[str, list[Path]] = {}
            for f in files:
                by_signer.setdefault(f.name.split("_")[0], []).append(f)
            picked = [f for fs in by_signer.values() for f in fs[:: max(1, len(fs) // 2)][:2]]
        else:
            picked = files[:: max(1, len(files) // 4)][:4]
        (target / folder.name).mkdir(parents=True, exist_ok=True)
        for f in picked:
            shutil.copyfile(f, target / folder.name / f.name)
    return target
