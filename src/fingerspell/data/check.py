"""`data check`: find what would ruin a model before training on a dataset.

Reports, per sample: missing files, unreadable / corrupt / truncated images, files changed
since import, boxes outside the image or with no area, labels outside the class list, images
with more than one box; and across samples: exact duplicates (same sha256) and near-duplicates
(64-bit DCT perceptual hash within a Hamming distance), plus which duplicate pairs sit on
different splits (a leak: the model is tested on what it trained on).

Perceptual hashes are stored in `samples.phash`, so a second check only decodes images whose
bytes changed (or that failed before). Near-duplicate candidates are found with multi-index
hashing: the 64 bits are cut into `threshold + 1` bands; two hashes within `threshold` bits of
each other must agree exactly on at least one band (pigeonhole), so only samples sharing a
band value are compared -- not all n^2 pairs.
"""
from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from fingerspell.errors import FingerspellError

# Measured on the shared sets: copies resized to 50-80 % and re-encoded at JPEG quality 30-60
# are within 4 bits 99.6-100 % of the time, while raising it to 6 makes asl-alphabet report 3.6x
# more pairs, mostly different letters in front of the same wall (bench/bench_check.py).
DEFAULT_NEAR_THRESHOLD = 4
BOX_TOLERANCE_PX = 1.0  # annotation tools round to whole pixels; don't flag a 0.5 px overhang

PROBLEM_KINDS = (
    "missing", "corrupt", "modified", "size-mismatch", "box-outside", "box-empty",
    "unknown-label", "multi-box",
)


@dataclass
class Problem:
    """One thing wrong with one sample."""

    sample_id: int
    where: str
    kind: str  # one of PROBLEM_KINDS
    detail: str


@dataclass
class DuplicatePair:
    """Two samples that are the same picture (exact) or nearly (near)."""

    a: int
    b: int
    kind: str  # exact / near
    distance: int  # Hamming distance of the perceptual hashes (0 for exact)
    split_a: str | None
    split_b: str | None

    @property
    def leak(self) -> bool:
        """Both samples have a split, and not the same one."""
        return self.split_a is not None and self.split_b is not None and self.split_a != self.split_b


@dataclass
class CheckReport:
    """Everything `check` found. `to_dict()` for JSON, `summary()` for people."""

    dataset: str
    samples: int
    near_threshold: int
    problems: list[Problem] = field(default_factory=list)
    exact_groups: list[list[int]] = field(default_factory=list)
    near_pairs: list[DuplicatePair] = field(default_factory=list)
    exact_pairs: list[DuplicatePair] = field(default_factory=list)
    # signer / source-photo groups with samples on more than one split (group -> splits)
    split_groups: dict[str, list[str]] = field(default_factory=dict)
    hashed: int = 0  # perceptual hashes computed this time (the rest came from the index)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> list[DuplicatePair]:
        return [p for p in self.exact_pairs + self.near_pairs if p.leak]

    def problems_of(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def counts(self) -> dict[str, int]:
        by_kind = Counter(p.kind for p in self.problems)
        out = {kind: by_kind.get(kind, 0) for kind in PROBLEM_KINDS}
        out["exact-duplicate-groups"] = len(self.exact_groups)
        out["exact-duplicate-samples"] = sum(len(g) for g in self.exact_groups)
        out["near-duplicate-pairs"] = len(self.near_pairs)
        out["leak-pairs"] = len(self.leaks)
        out["groups-across-splits"] = len(self.split_groups)
        return out

    def leak_counts(self) -> dict[str, int]:
        """Leak pairs by the two splits involved, e.g. {"test-train": 12}."""
        return dict(Counter("-".join(sorted((p.split_a or "", p.split_b or ""))) for p in self.leaks))

    @property
    def ok(self) -> bool:
        counts = self.counts()
        return not any(counts[k] for k in ("missing", "corrupt", "box-outside", "box-empty", "unknown-label")) \
            and not self.leaks

    def to_dict(self, limit: int | None = 1000) -> dict[str, Any]:
        """JSON-ready report; each list keeps at most `limit` entries (totals are in `counts`)."""
        def cap(items: list) -> list:
            return items if limit is None else items[:limit]

        def pair(p: DuplicatePair) -> dict[str, Any]:
            return {**asdict(p), "leak": p.leak}

        return {
            "dataset": self.dataset,
            "samples": self.samples,
            "near_threshold": self.near_threshold,
            "ok": self.ok,
            "counts": self.counts(),
            "leaks_by_split": self.leak_counts(),
            "problems": [asdict(p) for p in cap(self.problems)],
            "exact_duplicate_groups": cap(self.exact_groups),
            "near_duplicate_pairs": [pair(p) for p in cap(self.near_pairs)],
            "leaks": [pair(p) for p in cap(self.leaks)],
            "groups_across_splits": dict(itertools.islice(self.split_groups.items(), limit)),
            "hashed": self.hashed,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }

    def summary(self, examples: int = 5) -> str:
        counts = self.counts()
        lines = [f"dataset {self.dataset!r}: {self.samples} samples checked in {self.seconds:.1f} s "
                 f"({self.hashed} perceptual hashes computed)"]
        labels = {
            "missing": "missing files", "corrupt": "unreadable or corrupt images",
            "modified": "files changed since import", "size-mismatch": "images whose size differs from the index",
            "box-outside": "boxes outside the image", "box-empty": "empty (zero-area) boxes",
            "unknown-label": "labels outside the class list", "multi-box": "images with more than one box",
        }
        for kind, text in labels.items():
            found = self.problems_of(kind)
            lines.append(f"  {text}: {len(found)}")
            for p in found[:examples]:
                lines.append(f"      {p.sample_id} {p.where}: {p.detail}")
            if len(found) > examples:
                lines.append(f"      ... {len(found) - examples} more")
        lines.append(f"  exact duplicates: {counts['exact-duplicate-groups']} groups "
                     f"({counts['exact-duplicate-samples']} samples)")
        for group in self.exact_groups[:examples]:
            lines.append(f"      ids {', '.join(map(str, group))}")
        lines.append(f"  near duplicates (pHash distance <= {self.near_threshold}): {len(self.near_pairs)} pairs")
        for p in self.near_pairs[:examples]:
            lines.append(f"      {p.a} ~ {p.b} (distance {p.distance})")
        leaks = self.leaks
        by_split = ", ".join(f"{k}: {v}" for k, v in sorted(self.leak_counts().items()))
        lines.append(f"  leaks (duplicate pairs on different splits): {len(leaks)}" + (f" ({by_split})" if by_split else ""))
        for p in leaks[:examples]:
            lines.append(f"      {p.a} [{p.split_a}] {'==' if p.kind == 'exact' else '~'} {p.b} [{p.split_b}] ({p.kind})")
        if self.split_groups:
            shown = ", ".join(f"{g} ({'/'.join(s)})" for g, s in itertools.islice(self.split_groups.items(), examples))
            more = f", ... {len(self.split_groups) - examples} more" if len(self.split_groups) > examples else ""
            lines.append(f"  signers / source photos on more than one split: {len(self.split_groups)}: {shown}{more}"
                         " (`data split --by group` keeps them apart)")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# ---- perceptual hash ---------------------------------------------------------------------------
def phash(image: np.ndarray) -> int:
    """64-bit DCT perceptual hash (as imagehash.phash): grey 32x32, 2-D DCT, the 8x8 lowest
    frequencies compared with their median. Robust to re-encoding, resizing and small shifts
    in brightness; flips and crops change it."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    bits = (low > np.median(low)).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _bands(threshold: int) -> list[tuple[int, int]]:
    """(shift, width) of `threshold + 1` bands covering the 64 bits as evenly as possible."""
    n = min(threshold + 1, 64)
    widths = [64 // n + (1 if k < 64 % n else 0) for k in range(n)]
    out, shift = [], 0
    for w in widths:
        out.append((shift, w))
        shift += w
    return out


def near_duplicate_pairs(hashes: np.ndarray, threshold: int, chunk: int = 2048) -> np.ndarray:
    """All index pairs (i < j) whose 64-bit hashes differ in at most `threshold` bits.

    Returns an int64 array [P, 3] of (i, j, distance). Raises FingerspellError for a threshold
    outside 0..32 (beyond that nearly everything would match and banding stops helping).
    """
    if not 0 <= threshold <= 32:
        raise FingerspellError(f"near-duplicate threshold must be between 0 and 32 bits, got {threshold}")
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(hashes)
    found: list[np.ndarray] = []
    for shift, width in _bands(threshold):
        keys = (hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], n]
        for s, e in zip(starts, ends):
            if e - s < 2:
                continue
            members = np.sort(order[s:e])
            hm = hashes[members]
            # Compare in row chunks so a huge bucket (thousands of look-alike frames) stays in memory.
            for r0 in range(0, len(members), chunk):
                rows = hm[r0 : r0 + chunk]
                dist = np.bitwise_count(rows[:, None] ^ hm[None, :])
                ii, jj = np.nonzero(dist <= threshold)
                keep = (ii + r0) < jj
                ii, jj = ii[keep] + r0, jj[keep]
                if len(ii):
                    found.append(np.stack([members[ii], members[jj], dist[ii - r0, jj].astype(np.int64)], axis=1))
    if not found:
        return np.zeros((0, 3), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    # the same pair turns up in every band it agrees on
    _, first = np.unique(pairs[:, 0] * n + pairs[:, 1], return_index=True)
    return pairs[np.sort(first)]


# ---- reading and validating one file ------------------------------------------------------------
def _truncation(data: bytes) -> str | None:
    """Why encoded bytes look cut short, or None. OpenCV decodes a truncated JPEG without
    complaint (grey bottom rows), so look for the end-of-image marker ourselves."""
    if data[:3] == b"\xff\xd8\xff":
        tail = data[-1024:]
        if b"\xff\xd9" not in tail:
            return "truncated JPEG (no end-of-image marker)"
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        if b"IEND" not in data[-64:]:
            return "truncated PNG (no IEND chunk)"
    return None


@dataclass
class _FileResult:
    sample_id: int
    sha256: str | None
    phash: int | None
    size: tuple[int, int] | None  # decoded (width, height)
    problem: tuple[str, str] | None  # (kind, detail)


def _examine_file(path: Any, sample_id: int, stored_hash: str | None, stored_phash: str | None) -> _FileResult:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _FileResult(sample_id, None, None, None, ("missing", "file is missing"))
    except OSError as exc:
        return _FileResult(sample_id, None, None, None, ("corrupt", f"cannot read ({exc.strerror})"))
    digest = hashlib.sha256(data).hexdigest()
    if stored_phash and stored_hash == digest:
        # Same bytes as when the stored hash was computed and decoded fine then: skip the decode.
        return _FileResult(sample_id, digest, int(stored_phash, 16), None, None)
    why = _truncation(data)
    if why:
        return _FileResult(sample_id, digest, None, None, ("corrupt", why))
    array = np.frombuffer(data, dtype=np.uint8)
    gray = cv2.imdecode(array, cv2.IMREAD_GRAYSCALE) if array.size else None
    if gray is None:
        return _FileResult(sample_id, digest, None, None, ("corrupt", "cannot decode image (corrupt or not an image)"))
    return _FileResult(sample_id, digest, phash(gray), (gray.shape[1], gray.shape[0]), None)


def _progress(items: list, enabled: bool, desc: str) -> Iterator:
    if not enabled or len(items) < 200:
        return iter(items)
    from tqdm import tqdm

    # disable=None: a bar on a terminal, silent in pipes and logs
    return iter(tqdm(items, desc=desc, unit="img", leave=False, disable=None))


# ---- the check ---------------------------------------------------------------------------------
def check(dataset: Any, near_threshold: int = DEFAULT_NEAR_THRESHOLD, progress: bool = True) -> CheckReport:
    """Check `dataset` (a `Dataset`) and return a CheckReport; stores perceptual hashes (and any
    missing content hashes) in the index as a side effect.

    Raises FingerspellError for a near_threshold outside 0..32.
    """
    if not 0 <= near_threshold <= 32:
        raise FingerspellError(f"near-duplicate threshold must be between 0 and 32 bits, got {near_threshold}")
    started = time.perf_counter()
    classes = set(dataset.classes)
    samples = list(dataset.samples())
    report = CheckReport(dataset=dataset.name, samples=len(samples), near_threshold=near_threshold)
    stored = {r[0]: (r[1], r[2]) for r in dataset.db.execute("SELECT id, hash, phash FROM samples WHERE removed = 0")}

    def problem(sample: Any, kind: str, detail: str) -> None:
        report.problems.append(Problem(sample.id, sample.where, kind, detail))

    content_hash: dict[int, str | None] = {s.id: s.hash for s in samples}
    phashes: dict[int, int] = {}
    sizes: dict[int, tuple[int, int]] = {}
    new_phash: list[tuple[str, int]] = []
    new_hash: list[tuple[str, int]] = []

    if not dataset.has_images:
        report.notes.append("landmark-only dataset: no images to read, near-duplicate check skipped")
    else:
        from fingerspell.data.images import decode_pixels
        from fingerspell.errors import CorruptImageError

        for sample in _progress(samples, progress, "hashing images"):
            stored_hash, stored_phash = stored[sample.id]
            if sample.row is not None:  # a pixel row (Sign-MNIST): no file to go missing
                if stored_phash:
                    phashes[sample.id] = int(stored_phash, 16)
                    continue
                blob = dataset.db.execute("SELECT pixels FROM samples WHERE id = ?", (sample.id,)).fetchone()[0]
                try:
                    gray = decode_pixels(blob, sample.width, sample.height, where=sample.where)
                except CorruptImageError as exc:
                    problem(sample, "corrupt", str(exc).split(": ", 1)[-1])
                    continue
                phashes[sample.id] = phash(gray)
                new_phash.append((f"{phashes[sample.id]:016x}", sample.id))
                if stored_hash is None:
                    content_hash[sample.id] = hashlib.sha256(blob).hexdigest()
                    new_hash.append((content_hash[sample.id], sample.id))
                continue
            result = _examine_file(dataset.file_path(sample), sample.id, stored_hash, stored_phash)
            if result.problem:
                problem(sample, *result.problem)
            if result.sha256 is not None:
                if stored_hash is None:
                    new_hash.append((result.sha256, sample.id))
                elif stored_hash != result.sha256:
                    problem(sample, "modified", "file bytes changed since import (sha256 differs)")
                content_hash[sample.id] = result.sha256
            if result.phash is not None:
                phashes[sample.id] = result.phash
                if result.size is not None:
                    sizes[sample.id] = result.size
                    new_phash.append((f"{result.phash:016x}", sample.id))
        report.hashed = len(new_phash)
        with dataset.db:
            dataset.db.executemany("UPDATE samples SET phash = ? WHERE id = ?", new_phash)
            dataset.db.executemany("UPDATE samples SET hash = ? WHERE id = ?", new_hash)
        # A changed or failed file must not keep a stale hash for next time.
        bad = [(p.sample_id,) for p in report.problems if p.kind in ("missing", "corrupt", "modified")]
        with dataset.db:
            dataset.db.executemany("UPDATE samples SET phash = NULL WHERE id = ?", bad)

    _check_metadata(samples, sizes, classes, report)
    _find_duplicates(samples, content_hash, phashes, near_threshold, report)
    splits_of_group: dict[str, set[str]] = defaultdict(set)
    for s in samples:
        if s.signer is not None and s.split is not None:
            splits_of_group[s.signer].add(s.split)
    report.split_groups = {g: sorted(v) for g, v in sorted(splits_of_group.items()) if len(v) > 1}
    report.problems.sort(key=lambda p: (PROBLEM_KINDS.index(p.kind), p.sample_id))
    report.seconds = time.perf_counter() - started
    return report


def _check_metadata(samples: list, sizes: dict[int, tuple[int, int]], classes: set[str], report: CheckReport) -> None:
    for s in samples:
        where = s.where
        if s.label not in classes:
            report.problems.append(Problem(s.id, where, "unknown-label", f"label {s.label!r} is not in the class list"))
        decoded = sizes.get(s.id)
        if decoded and s.width is not None and s.height is not None and decoded != (s.width, s.height):
            report.problems.append(Problem(
                s.id, where, "size-mismatch", f"image is {decoded[0]}x{decoded[1]}, index says {s.width}x{s.height}"))
        width, height = decoded or (s.width, s.height)
        if s.instances > 1:
            report.problems.append(Problem(s.id, where, "multi-box", f"{s.instances} boxes"))
        for k, b in enumerate(s.boxes):
            if b.label not in classes:
                report.problems.append(Problem(s.id, where, "unknown-label", f"box {k} label {b.label!r} is not in the class list"))
            if b.xmax <= b.xmin or b.ymax <= b.ymin:
                report.problems.append(Problem(
                    s.id, where, "box-empty", f"box {k} ({b.xmin:g},{b.ymin:g},{b.xmax:g},{b.ymax:g}) has no area"))
            if width is not None and height is not None and (
                b.xmin < -BOX_TOLERANCE_PX or b.ymin < -BOX_TOLERANCE_PX
                or b.xmax > width + BOX_TOLERANCE_PX or b.ymax > height + BOX_TOLERANCE_PX
            ):
                report.problems.append(Problem(
                    s.id, where, "box-outside",
                    f"box {k} ({b.xmin:g},{b.ymin:g},{b.xmax:g},{b.ymax:g}) outside the {width}x{height} image"))


def _find_duplicates(samples: list, content_hash: dict[int, str | None], phashes: dict[int, int],
                     threshold: int, report: CheckReport) -> None:
    split_of = {s.id: s.split for s in samples}
    by_hash: dict[str, list[int]] = defaultdict(list)
    for s in samples:
        h = content_hash.get(s.id)
        if h:
            by_hash[h].append(s.id)
    report.exact_groups = sorted((sorted(g) for g in by_hash.values() if len(g) > 1), key=lambda g: g[0])
    for group in report.exact_groups:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                report.exact_pairs.append(DuplicatePair(a, b, "exact", 0, split_of[a], split_of[b]))
    if not phashes:
        return
    ids = np.array(sorted(phashes), dtype=np.int64)
    values = np.array([phashes[i] for i in ids], dtype=np.uint64)
    for i, j, d in near_duplicate_pairs(values, threshold):
        a, b = int(ids[i]), int(ids[j])
        ha, hb = content_hash.get(a), content_hash.get(b)
        if ha is not None and ha == hb:
            continue  # already an exact duplicate
        report.near_pairs.append(DuplicatePair(a, b, "near", int(d), split_of[a], split_of[b]))
    report.near_pairs.sort(key=lambda p: (p.a, p.b))
