"""What a dataset holds: counts by class, split and group, a class-distribution chart and an
imbalance warning (fixes applied; removed samples not counted)."""
from __future__ import annotations

import math
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fingerspell import atomic
from fingerspell.data.index import Dataset, dataset_names
from fingerspell.errors import FingerspellError

# A class with more than 1.5x the samples of the rarest one biases a classifier towards it
# enough to show in per-class recall; below that, plain cross-entropy copes.
IMBALANCE_RATIO = 1.5


@dataclass
class DatasetInfo:
    name: str
    format: str
    root: str
    samples: int
    classes: list[str]
    by_class: dict[str, int]
    by_split: dict[str, int]
    by_group: dict[str, int]
    boxes: int
    multi_box_images: int
    fixes_in_force: int
    imbalance_ratio: float | None
    warnings: list[str] = field(default_factory=list)
    by_class_split: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    detected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["imbalance_ratio"] is not None and math.isinf(data["imbalance_ratio"]):
            data["imbalance_ratio"] = None  # JSON has no infinity; the warning says which class is empty
        return data


def dataset_info(ds: Dataset) -> DatasetInfo:
    """Counts of `ds` as it is now (fixes applied)."""
    db = ds.db
    by_class = {c: 0 for c in ds.classes}
    for label, n in db.execute("SELECT label, COUNT(*) FROM samples WHERE removed = 0 GROUP BY label"):
        by_class[label] = n
    by_split = {(s if s is not None else "unassigned"): n for s, n in
                db.execute("SELECT split, COUNT(*) FROM samples WHERE removed = 0 GROUP BY split ORDER BY split")}
    by_group = {g: n for g, n in db.execute(
        "SELECT signer, COUNT(*) FROM samples WHERE removed = 0 AND signer IS NOT NULL GROUP BY signer ORDER BY signer")}
    by_class_split: dict[str, dict[str, int]] = {}
    for label, split, n in db.execute(
            "SELECT label, split, COUNT(*) FROM samples WHERE removed = 0 GROUP BY label, split"):
        by_class_split.setdefault(label, {})[split if split is not None else "unassigned"] = n
    boxes, multi = db.execute(
        "SELECT COALESCE(SUM(instances), 0), COALESCE(SUM(instances > 1), 0) FROM samples WHERE removed = 0").fetchone()
    fixes = db.execute("SELECT COUNT(*) FROM fixes WHERE undone IS NULL").fetchone()[0]
    counts = list(by_class.values())
    warnings: list[str] = []
    ratio: float | None = None
    if counts:
        low, high = min(counts), max(counts)
        ratio = math.inf if low == 0 else high / low
        empty = [c for c, n in by_class.items() if n == 0]
        if empty:
            warnings.append(f"no samples for class(es) {', '.join(empty)}")
        elif ratio > IMBALANCE_RATIO:
            rare = min(by_class, key=by_class.get)
            common = max(by_class, key=by_class.get)
            warnings.append(
                f"class imbalance: {common} has {high} samples, {rare} has {low} "
                f"(ratio {ratio:.2f} > {IMBALANCE_RATIO}); consider --per-class or class weights"
            )
    return DatasetInfo(
        name=ds.name, format=ds.format, root=str(ds.root), samples=ds.count(), classes=ds.classes,
        by_class=by_class, by_split=by_split, by_group=by_group, boxes=int(boxes), multi_box_images=int(multi),
        fixes_in_force=int(fixes), imbalance_ratio=ratio, warnings=warnings, by_class_split=by_class_split,
        notes=list(ds.meta.get("notes", [])), detected=ds.meta.get("detected"),
    )


def default_chart_path(ds: Dataset) -> Path:
    """`<FINGERSPELL_HOME>/datasets/<name>.classes.png`, next to the index."""
    return ds.path.with_name(f"{ds.name}.classes.png")


def class_chart(info: DatasetInfo, path: str | Path) -> Path:
    """Write a bar chart of samples per class (stacked by split) as a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = info.classes
    splits = sorted({s for per in info.by_class_split.values() for s in per}) or ["unassigned"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(classes) + 2), 4.0), dpi=100)
    bottom = [0] * len(classes)
    for split in splits:
        heights = [info.by_class_split.get(c, {}).get(split, 0) for c in classes]
        ax.bar(classes, heights, bottom=bottom, label=split)
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ratio = info.imbalance_ratio
    ratio_text = "" if ratio is None else (" (a class is empty)" if math.isinf(ratio) else f" (max/min {ratio:.2f})")
    ax.set_title(f"{info.name}: {info.samples} samples in {len(classes)} classes{ratio_text}")
    if len(splits) > 1 or splits != ["unassigned"]:
        ax.legend(title="split")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    try:
        return atomic.save_figure(fig, path)
    finally:
        plt.close(fig)


def list_datasets() -> list[dict[str, Any]]:
    """One summary per index in FINGERSPELL_HOME: name, format, samples, classes, splits, root."""
    rows = []
    for name in dataset_names():
        try:
            ds = Dataset.load(name)
        except (FingerspellError, sqlite3.DatabaseError, KeyError) as exc:  # one broken index must not hide the others
            rows.append({"name": name, "error": str(exc)})
            continue
        with ds:
            rows.append({
                "name": name, "format": ds.format, "samples": ds.count(), "classes": len(ds.classes),
                "splits": ds.splits(), "root": str(ds.root), "path": str(ds.path),
            })
    return rows


__all__ = ["DatasetInfo", "IMBALANCE_RATIO", "class_chart", "dataset_info", "default_chart_path", "list_datasets"]
