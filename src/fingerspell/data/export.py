"""Export a dataset, fixes applied, as class folders, YOLO, a corners CSV or COCO JSON.

What is written is the dataset as the index sees it now: relabelled samples under their new
label, removed samples and deleted boxes left out. Images are copied (Sign-MNIST pixel rows
are written as PNG); the source files are never modified. The export is built in a
temporary folder beside OUT and renamed into place, so OUT is either complete or absent.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from fingerspell.data.index import Dataset, Sample
from fingerspell.data.leftovers import remove_stale_temporaries
from fingerspell.data.names import class_name_problem
from fingerspell.data.safe_paths import child
from fingerspell.errors import CorruptImageError, FingerspellError, UnsafePathError

EXPORT_FORMATS = ("folders", "yolo", "corners-csv", "coco")
# Split folder names as the tools that read them expect (Roboflow/Ultralytics say `valid`).
_SPLIT_DIRS = {"train": "train", "val": "valid", "test": "test"}


@dataclass
class ExportResult:
    out: Path
    format: str
    images: int = 0
    boxes: int = 0
    by_split: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def export_dataset(ds: Dataset, format: str, out: str | Path, split: str | None = None) -> ExportResult:
    """Write `ds` (fixes applied) to the new folder `out` in `format`.

    `split` exports one split only. Samples are grouped by split into `train/`, `valid/`,
    `test/` when the dataset has splits; without splits everything goes in one set
    (`train/` for the box formats, class folders directly under `out` for `folders`).

    Raises FingerspellError for an unknown format, a non-empty `out`, a dataset without
    images (landmarks) or, for the box formats, without any box; CorruptImageError when a
    source image has gone missing.
    """
    if format not in EXPORT_FORMATS:
        raise FingerspellError(f"unknown export format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if not ds.has_images:
        raise FingerspellError(f"dataset {ds.name!r} holds landmarks, not images: nothing to export as {format}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FingerspellError(f"{out}: exists and is not an empty folder; choose a new output folder")
    samples = list(ds.samples(split=split))
    for label in {s.label for s in samples} | set(ds.classes):
        # The index may come from an older fingerspell or be edited by hand: a label is a
        # folder name here, so it is checked again before anything is written.
        problem = class_name_problem(label)
        if problem:
            raise UnsafePathError(f"dataset {ds.name!r}: class name {str(label)[:70]!r} {problem}; cannot export it")
    if not samples:
        raise FingerspellError(f"dataset {ds.name!r} has no samples{f' in split {split!r}' if split else ''} to export")
    if format != "folders" and not any(s.instances for s in samples):
        raise FingerspellError(f"dataset {ds.name!r} has no boxes; export it with --format folders")

    has_splits = any(s.split for s in samples)
    groups: dict[str | None, list[Sample]] = {}
    unassigned = 0
    for sample in samples:
        if has_splits and sample.split is None:
            unassigned += 1  # left out of the split (e.g. by --per-class): not part of any set
            continue
        groups.setdefault(sample.split, []).append(sample)

    result = ExportResult(out=out, format=format)
    if unassigned:
        result.notes.append(f"{unassigned} sample(s) without a split left out")
    remove_stale_temporaries(out.resolve().parent)
    tmp = out.with_name(f".{out.name}.export-{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        WRITERS[format](ds, groups, tmp, result)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


# ---- shared -----------------------------------------------------------------------------------
class _Names:
    """Unique file names per folder: the source's name, prefixed by the sample id on a clash."""

    def __init__(self) -> None:
        self.used: dict[Path, set[str]] = {}

    def __call__(self, folder: Path, sample: Sample) -> str:
        if sample.row is not None:  # a pixel row: <csv stem>_<line>.png
            stem = Path(sample.source).name.split(".")[0]
            name = f"{stem}_{sample.row}.png"
        else:
            name = Path(sample.source).name
        used = self.used.setdefault(folder, set())
        if name in used:
            name = f"{sample.id}_{name}"
        used.add(name)
        child(folder, name, what=f"sample {sample.id} ({sample.where})")  # refused if it leaves the folder
        return name


def _write_image(ds: Dataset, sample: Sample, target: Path) -> None:
    """Copy (or encode) the sample's image to `target`. Raises CorruptImageError for a missing
    source and UnsafePathError when the source (a symlink) resolves outside the dataset."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if sample.row is not None:
        pixels = ds.image(sample)
        ok, encoded = cv2.imencode(".png", pixels)
        if not ok:
            raise CorruptImageError(f"{sample.where}: cannot encode as PNG")
        target.write_bytes(encoded.tobytes())
        return
    source = ds.file_path(sample)
    try:
        shutil.copyfile(source, target)
    except FileNotFoundError:
        raise CorruptImageError(f"{source}: source image is missing; cannot export it") from None
    except OSError as exc:
        raise CorruptImageError(f"{source}: cannot copy it ({exc.strerror})") from None


def _split_dir(split: str | None) -> str:
    return _SPLIT_DIRS.get(split or "train", split or "train")


def _progress(items: list[Sample], desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="image", disable=None, leave=False)


def _num(value: float) -> str:
    """Pixel coordinates with up to 3 decimals and no trailing zeros (68.0 -> 68)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---- writers ----------------------------------------------------------------------------------
def _write_folders(ds: Dataset, groups: dict[str | None, list[Sample]], out: Path, result: ExportResult) -> None:
    names = _Names()
    for split, samples in groups.items():
        base = out / _split_dir(split) if split else out
        for sample in _progress(samples, f"export {split or 'all'}"):
            folder = child(base, sample.label, what=f"sample {sample.id} label {sample.label!r}")
            _write_image(ds, sample, folder / names(folder, sample))
            result.images += 1
        result.by_split[split or "all"] = len(samples)


def _write_yolo(ds: Dataset, groups: dict[str | None, list[Sample]], out: Path, result: ExportResult) -> None:
    class_ids = {c: i for i, c in enumerate(ds.classes)}
    names = _Names()
    config: dict[str, object] = {}
    unsized = 0
    for split, samples in groups.items():
        folder = _split_dir(split)
        images, labels = out / folder / "images", out / folder / "labels"
        labels.mkdir(parents=True, exist_ok=True)
        for sample in _progress(samples, f"export {folder}"):
            name = names(images, sample)
            _write_image(ds, sample, images / name)
            lines = []
            if sample.instances and not (sample.width and sample.height):
                unsized += 1  # cannot normalise without the image size
            elif sample.instances:
                for box in sample.boxes:
                    cx = (box.xmin + box.xmax) / 2 / sample.width
                    cy = (box.ymin + box.ymax) / 2 / sample.height
                    w = (box.xmax - box.xmin) / sample.width
                    h = (box.ymax - box.ymin) / sample.height
                    lines.append(f"{class_ids[box.label]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
                    result.boxes += 1
            (labels / f"{Path(name).stem}.txt").write_text("".join(line + "\n" for line in lines))
            result.images += 1
        config[{"valid": "val"}.get(folder, folder)] = f"{folder}/images"
        result.by_split[folder] = len(samples)
    if unsized:
        result.notes.append(f"{unsized} image(s) of unknown size exported without boxes")
    lines = [f"{key}: {value}" for key, value in config.items()]
    lines += [f"nc: {len(ds.classes)}", f"names: {json.dumps(ds.classes)}"]
    (out / "data.yaml").write_text("\n".join(lines) + "\n")


def _write_corners_csv(ds: Dataset, groups: dict[str | None, list[Sample]], out: Path, result: ExportResult) -> None:
    names = _Names()
    unboxed = 0
    for split, samples in groups.items():
        folder = out / _split_dir(split)
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["filename", "xmin", "ymin", "xmax", "ymax", "label"])
        written = 0
        for sample in _progress(samples, f"export {folder.name}"):
            if not sample.instances:
                unboxed += 1  # a row is a box: an image without one cannot be listed
                continue
            name = names(folder, sample)
            _write_image(ds, sample, folder / name)
            for box in sample.boxes:
                writer.writerow([name, _num(box.xmin), _num(box.ymin), _num(box.xmax), _num(box.ymax), box.label])
                result.boxes += 1
            result.images += 1
            written += 1
        (folder / "_annotations.csv").write_text(buffer.getvalue())
        result.by_split[folder.name] = written
    if unboxed:
        result.notes.append(f"{unboxed} image(s) without boxes left out (a corners CSV lists boxes)")
    (out / "_classes.txt").write_text("".join(c + "\n" for c in ds.classes))


def _write_coco(ds: Dataset, groups: dict[str | None, list[Sample]], out: Path, result: ExportResult) -> None:
    names = _Names()
    categories = [{"id": i, "name": c, "supercategory": "letters"} for i, c in enumerate(ds.classes)]
    class_ids = {c: i for i, c in enumerate(ds.classes)}
    annotation_id = 0
    for split, samples in groups.items():
        folder = out / _split_dir(split)
        folder.mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for image_id, sample in enumerate(_progress(samples, f"export {folder.name}")):
            name = names(folder, sample)
            _write_image(ds, sample, folder / name)
            images.append({"id": image_id, "file_name": name, "width": sample.width, "height": sample.height})
            for box in sample.boxes:
                w, h = box.xmax - box.xmin, box.ymax - box.ymin
                annotations.append({
                    "id": annotation_id, "image_id": image_id, "category_id": class_ids[box.label],
                    "bbox": [round(box.xmin, 3), round(box.ymin, 3), round(w, 3), round(h, 3)],
                    "area": round(w * h, 3), "iscrowd": 0,
                })
                annotation_id += 1
                result.boxes += 1
            result.images += 1
        document = {
            "info": {"description": f"{ds.name} exported by fingerspell (fixes applied)"},
            "images": images, "annotations": annotations, "categories": categories,
        }
        (folder / "_annotations.coco.json").write_text(json.dumps(document, indent=1) + "\n")
        result.by_split[folder.name] = len(samples)


WRITERS: dict[str, Callable[..., None]] = {
    "folders": _write_folders, "yolo": _write_yolo, "corners-csv": _write_corners_csv, "coco": _write_coco,
}
