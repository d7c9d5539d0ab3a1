"""The dataset index: one SQLite file per imported dataset.

A row per sample keeps where the sample came from (a file, or a CSV file and line), its
label, split, signer (group), size, boxes and content hash. Source files are never touched:
label fixes live in a `fixes` table and are folded into the *effective* columns (`label`,
`boxes`, `instances`, `removed`) every time a fix is added or undone, so queries, training
and export all see the fixed data while `original_label`/`original_boxes` keep what was
imported.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import home
from fingerspell.errors import (
    DatasetExistsError,
    DatasetFormatError,
    DatasetNotFoundError,
    FingerspellError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,            -- path relative to the dataset root (image, or CSV file)
    row INTEGER,                     -- 1-based line in `source` for CSV rows, else NULL
    original_label TEXT NOT NULL,
    label TEXT NOT NULL,             -- effective label (fixes applied)
    original_split TEXT,             -- split as the download had it (train/test), or NULL
    split TEXT,                      -- current split: train / val / test / NULL
    signer TEXT,                     -- group: signer, or source photo for augmented copies
    width INTEGER,
    height INTEGER,
    original_boxes TEXT NOT NULL DEFAULT '[]',  -- JSON [[xmin, ymin, xmax, ymax, label], ...] in pixels
    boxes TEXT NOT NULL DEFAULT '[]',           -- effective boxes
    instances INTEGER NOT NULL DEFAULT 0,       -- number of effective boxes
    removed INTEGER NOT NULL DEFAULT 0,         -- 1 when a fix removed the sample
    hash TEXT,                       -- sha256 of the file bytes (or of the pixel row)
    phash TEXT,                      -- perceptual hash, filled by `data check`
    pixels BLOB                      -- raw uint8 pixels for datasets stored as CSV (Sign-MNIST)
);
CREATE INDEX IF NOT EXISTS samples_label ON samples(label);
CREATE INDEX IF NOT EXISTS samples_split ON samples(split);
CREATE INDEX IF NOT EXISTS samples_hash ON samples(hash);
CREATE TABLE IF NOT EXISTS fixes (
    id INTEGER PRIMARY KEY,
    sample_id INTEGER NOT NULL REFERENCES samples(id),
    action TEXT NOT NULL,            -- relabel / remove / delete-box
    value TEXT,                      -- the new letter, or the box index
    reason TEXT,
    created TEXT NOT NULL,
    undone TEXT                      -- time of undo, or NULL while in force
);
CREATE TABLE IF NOT EXISTS landmarks (
    sample_id INTEGER PRIMARY KEY REFERENCES samples(id),
    hash TEXT,                       -- sample hash the landmarks were computed from
    settings TEXT,                   -- detector settings key: re-run when they change
    found INTEGER NOT NULL,
    handedness TEXT,                 -- Left / Right as MediaPipe reports it
    score REAL,
    points BLOB,                     -- float32 [21, 3]: x, y in 0-1 image coordinates, z relative depth
    world BLOB,                      -- float32 [21, 3] world landmarks in metres, or NULL
    box TEXT,                        -- JSON [xmin, ymin, xmax, ymax] pixels
    method TEXT                      -- which attempt found it (plain, padded, scaled, dataset, ...)
);
CREATE TABLE IF NOT EXISTS folds (
    sample_id INTEGER NOT NULL REFERENCES samples(id),
    fold TEXT NOT NULL,              -- leave-one-group-out fold name (the held-out group)
    PRIMARY KEY (sample_id, fold)
);
"""


@dataclass(frozen=True)
class Box:
    """A hand box in pixels."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    label: str

    def as_list(self) -> list[Any]:
        return [self.xmin, self.ymin, self.xmax, self.ymax, self.label]


@dataclass
class SampleRecord:
    """What an importer produces for one sample, before it has an id."""

    source: str
    label: str
    row: int | None = None
    split: str | None = None
    signer: str | None = None
    width: int | None = None
    height: int | None = None
    boxes: list[Box] = field(default_factory=list)
    hash: str | None = None
    pixels: bytes | None = None
    landmarks: np.ndarray | None = None  # float32 [21, 3] for landmark-only datasets


@dataclass
class Sample:
    """One sample as the index sees it now (fixes applied)."""

    id: int
    source: str
    row: int | None
    label: str
    original_label: str
    split: str | None
    original_split: str | None
    signer: str | None
    width: int | None
    height: int | None
    boxes: list[Box]
    instances: int
    hash: str | None
    removed: bool

    @property
    def where(self) -> str:
        """Human-readable origin: `file` or `file:line`."""
        return f"{self.source}:{self.row}" if self.row is not None else self.source


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _boxes_from_json(text: str) -> list[Box]:
    return [Box(float(b[0]), float(b[1]), float(b[2]), float(b[3]), str(b[4])) for b in json.loads(text or "[]")]


def _boxes_to_json(boxes: Sequence[Box]) -> str:
    return json.dumps([b.as_list() for b in boxes])


def index_path(name: str) -> Path:
    """Where the index called `name` lives. Raises InvalidNameError for a name that is not
    1-64 letters, digits, '-' and '_' (see fingerspell.data.names)."""
    from fingerspell.data.names import dataset_name

    return home.datasets_dir() / f"{dataset_name(name)}.sqlite"


def dataset_names() -> list[str]:
    return sorted(p.stem for p in home.datasets_dir().glob("*.sqlite"))


class Dataset:
    """An imported dataset: its index plus access to the images it points at.

    Open one with `Dataset.load(name)`; create one with an importer
    (`fingerspell.data.import_dataset`) which calls `Dataset.create`.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)  # older indexes gain new tables
        self.meta = {r["key"]: json.loads(r["value"]) for r in self.db.execute("SELECT key, value FROM meta")}

    # ---- opening and creating -------------------------------------------------------------
    @classmethod
    def load(cls, name: str) -> "Dataset":
        """Open the index called `name`. Raises DatasetNotFoundError listing known names."""
        path = index_path(name)
        if not path.exists():
            known = ", ".join(dataset_names()) or "none yet (run `fingerspell data import PATH`)"
            raise DatasetNotFoundError(f"no dataset named {name!r}; known datasets: {known}")
        return cls(path)

    @classmethod
    def create(
        cls,
        name: str,
        *,
        root: Path,
        format: str,
        classes: Sequence[str],
        records: Iterable[SampleRecord],
        extra_meta: dict[str, Any] | None = None,
        replace: bool = False,
    ) -> "Dataset":
        """Write a new index in one go: built in a temporary file and renamed into place, so
        an error anywhere (raised by the `records` generator too) leaves nothing behind and
        an existing index untouched.

        Raises DatasetExistsError when `name` exists and `replace` is false, and
        DatasetFormatError (from importers) for malformed input.
        """
        final = index_path(name)
        if final.exists() and not replace:
            raise DatasetExistsError(f"a dataset named {name!r} exists already; pass --name to choose another or --replace")
        from fingerspell.data.leftovers import remove_stale_temporaries
        from fingerspell.data.names import class_name_problem

        remove_stale_temporaries(final.parent)
        # Every label becomes a folder name on export: the importers check them with file and
        # row; this is the backstop for any importer (or caller) that did not.
        for label in classes:
            problem = class_name_problem(label)
            if problem:
                raise DatasetFormatError(f"{root}: class name {str(label)[:70]!r} {problem}")
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        class_set = set(classes)
        try:
            db = sqlite3.connect(tmp)
            db.executescript(SCHEMA)
            meta = {
                "name": name,
                "root": str(Path(root).resolve()),
                "format": format,
                "classes": list(classes),
                "created": _now(),
                **(extra_meta or {}),
            }
            db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
            count = 0
            for rec in records:
                if rec.label not in class_set:
                    raise DatasetFormatError(f"{rec.source}{':' + str(rec.row) if rec.row else ''}: label {rec.label!r} is not one of the classes")
                boxes = _boxes_to_json(rec.boxes)
                cur = db.execute(
                    "INSERT INTO samples(source, row, original_label, label, original_split, split, signer, width, height,"
                    " original_boxes, boxes, instances, hash, pixels) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (rec.source, rec.row, rec.label, rec.label, rec.split, rec.split, rec.signer, rec.width, rec.height,
                     boxes, boxes, len(rec.boxes), rec.hash, rec.pixels),
                )
                if rec.landmarks is not None:
                    points = np.asarray(rec.landmarks, dtype=np.float32).reshape(21, 3)
                    db.execute(
                        "INSERT INTO landmarks(sample_id, hash, settings, found, handedness, score, points, method)"
                        " VALUES (?, ?, 'dataset', 1, NULL, 1.0, ?, 'dataset')",
                        (cur.lastrowid, rec.hash, points.tobytes()),
                    )
                count += 1
            if count == 0:
                raise DatasetFormatError(f"{root}: no samples found")
            db.commit()
            db.close()
            os.replace(tmp, final)
        except BaseException:
            try:
                db.close()
            except Exception:
                pass
            tmp.unlink(missing_ok=True)
            raise
        return cls(final)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def root(self) -> Path:
        return Path(self.meta["root"])

    @property
    def format(self) -> str:
        return self.meta["format"]

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def has_images(self) -> bool:
        return self.format != "landmarks"

    def set_meta(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value)))
        self.meta[key] = value

    # ---- reading samples -------------------------------------------------------------------
    def samples(
        self,
        split: str | None = None,
        where: str | None = None,
        params: Sequence[Any] = (),
        include_removed: bool = False,
    ) -> Iterator[Sample]:
        """Samples in id order, fixes applied. `where` is a trusted SQL fragment with `?`
        placeholders (the query language builds these; user text never goes in here raw)."""
        clauses, args = [], []
        if not include_removed:
            clauses.append("removed = 0")
        if split is not None:
            clauses.append("split = ?")
            args.append(split)
        if where:
            clauses.append(f"({where})")
            args.extend(params)
        sql = "SELECT * FROM samples"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id"
        for row in self.db.execute(sql, args):
            yield self._sample(row)

    def sample(self, sample_id: int) -> Sample:
        """The sample with this id. Raises FingerspellError when there is none."""
        if not isinstance(sample_id, int) or not 0 <= sample_id < 2**63:  # SQLite integers are 64-bit
            raise FingerspellError(f"dataset {self.name!r} has no sample with id {str(sample_id)[:30]}")
        row = self.db.execute("SELECT * FROM samples WHERE id = ?", (sample_id,)).fetchone()
        if row is None:
            raise FingerspellError(f"dataset {self.name!r} has no sample with id {sample_id}")
        return self._sample(row)

    def count(self, split: str | None = None) -> int:
        if split is None:
            return self.db.execute("SELECT COUNT(*) FROM samples WHERE removed = 0").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM samples WHERE removed = 0 AND split = ?", (split,)).fetchone()[0]

    def splits(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT split FROM samples WHERE split IS NOT NULL ORDER BY split")]

    @staticmethod
    def _sample(row: sqlite3.Row) -> Sample:
        return Sample(
            id=row["id"], source=row["source"], row=row["row"], label=row["label"],
            original_label=row["original_label"], split=row["split"], original_split=row["original_split"],
            signer=row["signer"], width=row["width"], height=row["height"],
            boxes=_boxes_from_json(row["boxes"]), instances=row["instances"], hash=row["hash"],
            removed=bool(row["removed"]),
        )

    def file_path(self, sample: Sample) -> Path:
        """The sample's file. Raises UnsafePathError when it (a symbolic link included)
        resolves outside the dataset root."""
        from fingerspell.data.safe_paths import contained

        return contained(self.root / sample.source, self.root, f"sample {sample.id} ({sample.source})")

    def image(self, sample: Sample) -> np.ndarray:
        """The sample's pixels: HxWx3 RGB uint8 for image files, HxW uint8 greyscale for
        pixel rows (Sign-MNIST). Raises CorruptImageError naming the file."""
        from fingerspell.data.images import decode_pixels, read_image

        if sample.row is not None:
            blob = self.db.execute("SELECT pixels FROM samples WHERE id = ?", (sample.id,)).fetchone()[0]
            return decode_pixels(blob, sample.width, sample.height, where=sample.where)
        return read_image(self.file_path(sample))

    # ---- splits ----------------------------------------------------------------------------
    def assign_splits(self, assignment: dict[int, str | None]) -> None:
        """Set the current split of many samples in one transaction."""
        with self.db:
            self.db.executemany("UPDATE samples SET split = ? WHERE id = ?", [(s, i) for i, s in assignment.items()])

    # ---- the fixes layer ---------------------------------------------------------------------
    def add_fix(self, sample_id: int, action: str, value: str | None = None, reason: str | None = None) -> int:
        """Record a fix and apply it to the effective columns. Returns the fix id.

        Raises FingerspellError for an unknown sample, action or box index and
        UnknownLabelError for a relabel to a class the dataset does not have."""
        from fingerspell.errors import UnknownLabelError

        sample = self.sample(sample_id)
        if action == "relabel":
            if value not in self.classes:
                raise UnknownLabelError(f"{value!r} is not a class of {self.name!r}; classes: {', '.join(self.classes)}")
        elif action == "delete-box":
            if value is None or not str(value).isdigit() or int(value) >= sample.instances:
                raise FingerspellError(f"sample {sample_id} has {sample.instances} box(es); no box {value!r}")
        elif action != "remove":
            raise FingerspellError(f"unknown fix action {action!r}: use relabel, remove or delete-box")
        with self.db:
            cur = self.db.execute(
                "INSERT INTO fixes(sample_id, action, value, reason, created) VALUES (?, ?, ?, ?, ?)",
                (sample_id, action, None if value is None else str(value), reason, _now()),
            )
            self._refold(sample_id)
        return int(cur.lastrowid)

    def undo_fix(self, fix_id: int | None = None) -> int:
        """Undo fix `fix_id`, or the latest fix still in force. Returns the undone fix id."""
        if fix_id is not None and not 0 <= fix_id < 2**63:
            raise FingerspellError(f"no fix {str(fix_id)[:30]} in force")
        if fix_id is None:
            row = self.db.execute("SELECT id, sample_id FROM fixes WHERE undone IS NULL ORDER BY id DESC LIMIT 1").fetchone()
        else:
            row = self.db.execute("SELECT id, sample_id FROM fixes WHERE id = ? AND undone IS NULL", (fix_id,)).fetchone()
        if row is None:
            raise FingerspellError("no fix to undo" if fix_id is None else f"no fix {fix_id} in force")
        with self.db:
            self.db.execute("UPDATE fixes SET undone = ? WHERE id = ?", (_now(), row["id"]))
            self._refold(row["sample_id"])
        return int(row["id"])

    def fixes(self, include_undone: bool = True) -> list[dict[str, Any]]:
        sql = "SELECT * FROM fixes" + ("" if include_undone else " WHERE undone IS NULL") + " ORDER BY id"
        return [dict(r) for r in self.db.execute(sql)]

    def _refold(self, sample_id: int) -> None:
        """Recompute a sample's effective columns from its original ones and its fixes in force."""
        row = self.db.execute("SELECT original_label, original_boxes FROM samples WHERE id = ?", (sample_id,)).fetchone()
        label, boxes, removed = row["original_label"], _boxes_from_json(row["original_boxes"]), False
        for fix in self.db.execute(
            "SELECT action, value FROM fixes WHERE sample_id = ? AND undone IS NULL ORDER BY id", (sample_id,)
        ):
            if fix["action"] == "relabel":
                label = fix["value"]
                boxes = [Box(b.xmin, b.ymin, b.xmax, b.ymax, label) for b in boxes]
            elif fix["action"] == "remove":
                removed = True
            elif fix["action"] == "delete-box":
                k = int(fix["value"])
                if k < len(boxes):
                    boxes.pop(k)
        self.db.execute(
            "UPDATE samples SET label = ?, boxes = ?, instances = ?, removed = ? WHERE id = ?",
            (label, _boxes_to_json(boxes), len(boxes), int(removed), sample_id),
        )
