"""`data split`: assign train / val / test, stratified by label, optionally keeping groups apart.

- `by="random"`: every class is cut into train/val/test in the requested fractions.
- `by="group"`: every group (`samples.signer`: Massey's `hand1`..`hand4`, the asl-letters source
  photo `A0`, `B12`, ...) lands wholly on one side, so a model is never tested on a signer or a
  photo it trained on (augmented copies of one photo are near-duplicates).
  * Many groups (more than `EXHAUSTIVE_MAX_GROUPS`): groups are dealt out greedily, largest
    first, each to the split whose per-class counts are furthest below target (relative
    deficit), which keeps the split stratified by label.
  * Few groups (Massey has 4 signers): every assignment of whole groups to splits is tried;
    the ones closest to the requested fractions that keep every class in train and give every
    requested split at least one group are kept, and the seed picks one of them. With 4
    signers and 0.15/0.15 that is 2 signers train, 1 val, 1 test -- fractions of about
    0.5/0.25/0.25, not 0.7/0.15/0.15: whole signers cannot be cut finer. For an honest
    estimate over all signers use `loso_folds` (leave-one-signer-out) instead.
- `per_class=N` first picks N random samples of each class (the rest get split NULL: unused),
  as the DebuggerCafe tutorial takes 1,200 of 3,000 images per class.

Everything is deterministic for a given seed. The settings are stored in the index meta
(`split`), so a training run can record how its data was cut.
"""
from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerspell.errors import FingerspellError

SPLITS = ("train", "val", "test")
EXHAUSTIVE_MAX_GROUPS = 8
NEAR_BEST_TOLERANCE = 0.02  # assignments this close to the best are equally good; the seed picks


@dataclass
class SplitSummary:
    """What `split_dataset` assigned."""

    dataset: str
    by: str
    val: float
    test: float
    seed: int
    per_class: int | None
    counts: dict[str, int]  # train / val / test / unused
    class_counts: dict[str, dict[str, int]]  # label -> split -> count
    groups: dict[str, list[str]] = field(default_factory=dict)  # split -> groups (by="group")
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "by": self.by, "val": self.val, "test": self.test, "seed": self.seed,
            "per_class": self.per_class, "counts": self.counts, "class_counts": self.class_counts,
            "groups": self.groups, "notes": self.notes,
        }

    def summary(self) -> str:
        total = sum(self.counts.values()) or 1
        lines = [f"dataset {self.dataset!r} split by {self.by} (val {self.val}, test {self.test}, seed {self.seed}"
                 + (f", {self.per_class} per class" if self.per_class else "") + ")"]
        for name in (*SPLITS, "unused"):
            n = self.counts.get(name, 0)
            extra = ""
            if name in self.groups:
                g = self.groups[name]
                shown = ", ".join(g[:8]) + (f", ... ({len(g)} groups)" if len(g) > 8 else "")
                extra = f"  groups: {shown}"
            lines.append(f"  {name:<6} {n:>7}  ({100 * n / total:5.1f}%){extra}")
        missing = [c for c, per in self.class_counts.items() if per.get("train", 0) == 0 and sum(per.values())]
        lines.append("  every class has train samples" if not missing else f"  classes with no train samples: {', '.join(missing)}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


@dataclass
class Fold:
    """One leave-one-group-out fold: `name` (the group) is the test side, the rest train."""

    name: str
    test: int
    train: int
    test_classes: int


def _validate(by: str, val: float, test: float, per_class: int | None) -> None:
    if by not in ("random", "group"):
        raise FingerspellError(f"unknown split method {by!r}: use random or group")
    for name, frac in (("val", val), ("test", test)):
        if not 0 <= frac < 1:
            raise FingerspellError(f"--{name} must be a fraction in [0, 1), got {frac}")
    if val + test >= 1:
        raise FingerspellError(f"--val {val} + --test {test} leave nothing for train; keep their sum below 1")
    if per_class is not None and per_class < 1:
        raise FingerspellError(f"--per-class must be at least 1, got {per_class}")


def split_dataset(
    dataset: Any,
    by: str = "random",
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    per_class: int | None = None,
    keep_test: bool = False,
) -> SplitSummary:
    """Assign every (non-removed) sample of `dataset` to train / val / test / None and store it.

    `keep_test=True` keeps the download's own test split (`original_split == "test"`, as
    Sign-MNIST ships) as test and cuts only train / val from the rest; `test` is then ignored.

    Raises FingerspellError for bad fractions, an unknown method, or `by="group"` on a
    dataset without groups (Sign-MNIST, asl-alphabet, landmarks have no signer column).
    """
    _validate(by, val, test, per_class)
    samples = list(dataset.samples())
    if not samples:
        raise FingerspellError(f"dataset {dataset.name!r} has no samples to split")
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    held_test: set[int] = set()
    if keep_test:
        held_test = {s.id for s in samples if s.original_split == "test"}
        if not held_test:
            raise FingerspellError(f"dataset {dataset.name!r} came without a test split; drop --keep-test")
        notes.append(f"kept the original test split ({len(held_test)} samples); --test ignored")
        test = 0.0
    fractions = {"train": 1 - val - test, "val": val, "test": test}
    all_samples, samples = samples, [s for s in samples if s.id not in held_test]

    by_label: dict[str, list[int]] = defaultdict(list)
    label_of = {}
    for s in samples:
        by_label[s.label].append(s.id)
        label_of[s.id] = s.label
    labels = sorted(by_label)

    selected: set[int] = set()
    for label in labels:
        ids = by_label[label]
        if per_class is not None and len(ids) > per_class:
            ids = sorted(int(i) for i in rng.choice(ids, size=per_class, replace=False))
        elif per_class is not None:
            notes.append(f"class {label!r} has only {len(ids)} samples (< {per_class}); all used")
        selected.update(ids)

    assignment: dict[int, str | None] = {s.id: None for s in samples}
    assignment.update({sid: "test" for sid in held_test})
    label_of.update({s.id: s.label for s in all_samples})
    labels = sorted(set(label_of.values()))
    groups_by_split: dict[str, list[str]] = {}
    if by == "random":
        for label in labels:
            ids = [i for i in by_label[label] if i in selected]
            order = [ids[k] for k in rng.permutation(len(ids))]
            n = len(order)
            n_test, n_val = round(n * test), round(n * val)
            while n - n_test - n_val < 1 and (n_val or n_test):  # keep at least one for training
                if n_val >= n_test and n_val:
                    n_val -= 1
                else:
                    n_test -= 1
            for k, sid in enumerate(order):
                assignment[sid] = "test" if k < n_test else "val" if k < n_test + n_val else "train"
    else:
        group_of = {s.id: s.signer if s.signer is not None else f"#{s.id}" for s in samples}
        if all(s.signer is None for s in samples):
            raise FingerspellError(
                f"dataset {dataset.name!r} has no signer/group for any sample, so it cannot be split by group; "
                "use --by random (or import with --group-pattern)")
        ungrouped = sum(1 for s in samples if s.signer is None and s.id in selected)
        if ungrouped:
            notes.append(f"{ungrouped} samples have no signer; each is its own group")
        group_counts: dict[str, Counter] = defaultdict(Counter)
        for sid in selected:
            group_counts[group_of[sid]][label_of[sid]] += 1
        split_of_group = _assign_groups(group_counts, fractions, rng, notes)
        for sid in selected:
            assignment[sid] = split_of_group[group_of[sid]]
        for name in SPLITS:
            members = sorted(g for g, s in split_of_group.items() if s == name)
            if members:
                groups_by_split[name] = members

    dataset.assign_splits(assignment)
    counts = Counter(v or "unused" for v in assignment.values())
    class_counts: dict[str, dict[str, int]] = {label: {} for label in labels}
    for sid, split in assignment.items():
        per = class_counts[label_of[sid]]
        per[split or "unused"] = per.get(split or "unused", 0) + 1
    summary = SplitSummary(
        dataset=dataset.name, by=by, val=val, test=test, seed=seed, per_class=per_class,
        counts={name: counts.get(name, 0) for name in (*SPLITS, "unused")},
        class_counts=class_counts, groups=groups_by_split, notes=notes,
    )
    dataset.set_meta("split", {"by": by, "val": val, "test": test, "seed": seed, "per_class": per_class,
                               "keep_test": keep_test, "counts": summary.counts})
    return summary


def _assign_groups(group_counts: dict[str, Counter], fractions: dict[str, float],
                   rng: np.random.Generator, notes: list[str]) -> dict[str, str]:
    """Map each group to a split, keeping every class in train where the groups allow it."""
    active = [s for s in SPLITS if fractions[s] > 0]
    groups = sorted(group_counts)
    if len(groups) <= EXHAUSTIVE_MAX_GROUPS:
        return _assign_few_groups(groups, group_counts, fractions, active, rng, notes)

    class_total: Counter = Counter()
    for counts in group_counts.values():
        class_total.update(counts)
    target = {s: {c: fractions[s] * n for c, n in class_total.items()} for s in active}
    current = {s: Counter() for s in active}
    # random order, then largest first (stable), so big groups are placed while there is room
    order = [groups[k] for k in rng.permutation(len(groups))]
    order.sort(key=lambda g: -sum(group_counts[g].values()))
    result: dict[str, str] = {}
    for g in order:
        def deficit(s: str) -> float:
            return sum(n * (target[s][c] - current[s][c]) / target[s][c] for c, n in group_counts[g].items() if target[s][c] > 0)
        best = max(active, key=deficit)  # ties -> the earlier split (train first)
        result[g] = best
        current[best].update(group_counts[g])
    # Stratification repair: a class with no train samples gets its smallest group moved to train.
    for c in sorted(class_total):
        if current["train"][c] == 0:
            holders = [g for g in groups if group_counts[g][c] > 0]
            g = min(holders, key=lambda g: (sum(group_counts[g].values()), g))
            current[result[g]].subtract(group_counts[g])
            result[g] = "train"
            current["train"].update(group_counts[g])
            notes.append(f"moved group {g!r} to train so class {c!r} has training samples")
    return result


def _assign_few_groups(groups: list[str], group_counts: dict[str, Counter], fractions: dict[str, float],
                       active: list[str], rng: np.random.Generator, notes: list[str]) -> dict[str, str]:
    """Try every assignment of whole groups; keep those nearest the fractions, let the seed pick."""
    sizes = np.array([sum(group_counts[g].values()) for g in groups], dtype=float)
    total = sizes.sum()
    classes = sorted(set().union(*group_counts.values()))
    need_all = len(groups) >= len(active)
    if not need_all:
        notes.append(f"only {len(groups)} groups for {len(active)} splits: some splits stay empty")
    scored: list[tuple[float, tuple[str, ...]]] = []
    relaxed: list[tuple[float, tuple[str, ...]]] = []
    for combo in itertools.product(active, repeat=len(groups)):
        if need_all and len(set(combo)) < len(active):
            continue
        if "train" not in combo:
            continue
        cost = sum((sizes[[k for k, s in enumerate(combo) if s == name]].sum() / total - fractions[name]) ** 2
                   for name in active)
        train_classes = set().union(*(group_counts[g] for g, s in zip(groups, combo) if s == "train"))
        (scored if all(c in train_classes for c in classes) else relaxed).append((cost, combo))
    if not scored:
        notes.append("no assignment of whole groups keeps every class in train; some classes are missing there")
        scored = relaxed
    if not scored:
        raise FingerspellError(f"cannot split {len(groups)} groups into {', '.join(active)}")
    best = min(cost for cost, _ in scored)
    near_best = sorted(combo for cost, combo in scored if cost <= best + NEAR_BEST_TOLERANCE)
    choice = near_best[int(rng.integers(len(near_best)))]
    notes.append(f"{len(groups)} groups: whole groups assigned ({len(near_best)} near-best assignments, "
                 "the seed picked one); use --loso for leave-one-group-out folds")
    return dict(zip(groups, choice))


# ---- leave-one-group-out -------------------------------------------------------------------------
def loso_folds(dataset: Any) -> list[Fold]:
    """Write leave-one-group-out folds to the index's `folds` table (one fold per group: that
    group's samples are the test side, every other grouped sample trains) and describe them.

    Samples with no signer are in no fold's test side. Raises FingerspellError when the
    dataset has no groups at all.
    """
    samples = [s for s in dataset.samples() if s.signer is not None]
    if not samples:
        raise FingerspellError(
            f"dataset {dataset.name!r} has no signer/group column, so it has no leave-one-group-out folds")
    members: dict[str, list[Any]] = defaultdict(list)
    for s in samples:
        members[s.signer].append(s)
    with dataset.db:
        dataset.db.execute("DELETE FROM folds")
        dataset.db.executemany("INSERT INTO folds(sample_id, fold) VALUES (?, ?)", [(s.id, s.signer) for s in samples])
    total = len(samples)
    return [Fold(name=g, test=len(m), train=total - len(m), test_classes=len({s.label for s in m}))
            for g, m in sorted(members.items())]


def fold_ids(dataset: Any, fold: str) -> tuple[list[int], list[int]]:
    """(train ids, test ids) of a stored fold. Raises FingerspellError for an unknown fold."""
    test = [r[0] for r in dataset.db.execute("SELECT f.sample_id FROM folds f JOIN samples s ON s.id = f.sample_id"
        " WHERE f.fold = ? AND s.removed = 0 ORDER BY f.sample_id", (fold,))]
    if not test:
        known = [r[0] for r in dataset.db.execute("SELECT DISTINCT fold FROM folds ORDER BY fold")]
        raise FingerspellError(f"dataset {dataset.name!r} has no fold {fold!r}; folds: {', '.join(known) or 'none (run data split --loso)'}")
    test_set = set(test)
    train = [r[0] for r in dataset.db.execute(
        "SELECT DISTINCT f.sample_id FROM folds f JOIN samples s ON s.id = f.sample_id WHERE s.removed = 0 ORDER BY f.sample_id")
        if r[0] not in test_set]
    return train, test
