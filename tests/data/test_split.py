"""`data split` on the real Massey (4 signers) and asl-letters (504 source photos) sets."""
from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from fingerspell.cli import main
from fingerspell.data import Dataset
from fingerspell.data.importer import import_dataset
from fingerspell.data.split import fold_ids, loso_folds, split_dataset
from fingerspell.errors import FingerspellError


@pytest.fixture(scope="module")
def imported(datasets_root: Path, tmp_path_factory) -> Path:
    """Massey and asl-letters imported once for the module; each test gets its own copy."""
    home = tmp_path_factory.mktemp("split-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINGERSPELL_HOME", str(home))
        import_dataset(datasets_root / "massey", name="massey").close()
        import_dataset(datasets_root / "asl-letters", format="yolo", name="letters").close()
    return home / "datasets"


def _open(imported: Path, fs_home: Path, name: str) -> Dataset:
    (fs_home / "datasets").mkdir(parents=True, exist_ok=True)
    shutil.copy(imported / f"{name}.sqlite", fs_home / "datasets" / f"{name}.sqlite")
    return Dataset.load(name)


def _groups_by_split(ds: Dataset) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in ds.samples():
        if s.split is not None:
            out.setdefault(s.split, set()).add(s.signer)
    return out


@pytest.mark.parametrize("name, groups", [("massey", 4), ("letters", 504)])
def test_grouped_split_keeps_every_group_on_one_side(imported: Path, fs_home: Path, name: str, groups: int) -> None:
    ds = _open(imported, fs_home, name)
    assert len({s.signer for s in ds.samples()}) == groups
    summary = split_dataset(ds, by="group", val=0.15, test=0.15, seed=3)
    by_split = _groups_by_split(ds)
    assert set(by_split) == {"train", "val", "test"}
    for a, b in itertools.combinations(by_split, 2):
        assert not by_split[a] & by_split[b], f"{name}: groups on both {a} and {b}"
    # stratified: every class has training samples
    train_labels = {s.label for s in ds.samples(split="train")}
    assert train_labels == set(ds.classes)
    assert summary.counts["train"] + summary.counts["val"] + summary.counts["test"] == ds.count()
    assert summary.counts["unused"] == 0


def test_massey_assigns_whole_signers(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "massey")
    summary = split_dataset(ds, by="group", val=0.15, test=0.15, seed=0)
    assert sorted(len(summary.groups[s]) for s in ("train", "val", "test")) == [1, 1, 2]
    assert len(summary.groups["train"]) == 2
    assert any("whole groups" in n for n in summary.notes)


def test_letters_grouped_split_is_near_the_fractions_and_stratified(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "letters")
    summary = split_dataset(ds, by="group", val=0.15, test=0.15, seed=0)
    total = ds.count()
    for split, target in (("train", 0.7), ("val", 0.15), ("test", 0.15)):
        assert abs(summary.counts[split] / total - target) < 0.05
    # every letter is in every split (26 letters x ~19 photos each)
    for split in ("train", "val", "test"):
        assert {s.label for s in ds.samples(split=split)} == set(ds.classes)


def test_split_is_deterministic_for_a_seed(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "letters")

    def assignment(**kw) -> dict[int, str | None]:
        split_dataset(ds, **kw)
        return {s.id: s.split for s in ds.samples()}

    for by in ("group", "random"):
        first = assignment(by=by, seed=7)
        assert assignment(by=by, seed=7) == first
        assert assignment(by=by, seed=8) != first


def test_random_split_is_stratified(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "massey")
    split_dataset(ds, by="random", val=0.1, test=0.2, seed=1)
    per_class = Counter((s.label, s.split) for s in ds.samples())
    totals = Counter(s.label for s in ds.samples())
    for label, n in totals.items():
        assert per_class[(label, "test")] == round(n * 0.2)
        assert per_class[(label, "val")] == round(n * 0.1)
        assert per_class[(label, "train")] >= 1


def test_per_class_subset_leaves_the_rest_unused(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "letters")
    summary = split_dataset(ds, by="random", val=0.2, test=0.2, per_class=30, seed=0)
    used = Counter(s.label for s in ds.samples() if s.split is not None)
    assert set(used.values()) == {30} and len(used) == 26
    assert summary.counts["unused"] == ds.count() - 26 * 30
    assert Counter(s.split for s in ds.samples() if s.label == "A") == Counter(
        {"train": 18, "val": 6, "test": 6, None: sum(1 for s in ds.samples() if s.label == "A") - 30})
    # per-class subsets also work grouped: groups still never straddle splits
    split_dataset(ds, by="group", per_class=30, seed=0)
    by_split = _groups_by_split(ds)
    for a, b in itertools.combinations(by_split, 2):
        assert not by_split[a] & by_split[b]


def test_loso_writes_one_fold_per_signer(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "massey")
    folds = loso_folds(ds)
    assert [f.name for f in folds] == ["hand1", "hand2", "hand3", "hand4"]
    assert sum(f.test for f in folds) == ds.count()
    assert all(f.test + f.train == ds.count() for f in folds)
    assert ds.db.execute("SELECT COUNT(*) FROM folds").fetchone()[0] == ds.count()
    train, test = fold_ids(ds, "hand3")
    signer = {s.id: s.signer for s in ds.samples()}
    assert {signer[i] for i in test} == {"hand3"} and "hand3" not in {signer[i] for i in train}
    assert len(train) + len(test) == ds.count()
    with pytest.raises(FingerspellError, match="no fold 'hand9'"):
        fold_ids(ds, "hand9")


def test_bad_requests_fail_clearly(imported: Path, fs_home: Path) -> None:
    ds = _open(imported, fs_home, "letters")
    with pytest.raises(FingerspellError, match="leave nothing for train"):
        split_dataset(ds, val=0.5, test=0.5)
    with pytest.raises(FingerspellError, match="unknown split method"):
        split_dataset(ds, by="signer")
    with pytest.raises(FingerspellError, match="per-class must be at least 1"):
        split_dataset(ds, per_class=0)
    ds.db.execute("UPDATE samples SET signer = NULL")
    ds.db.commit()
    with pytest.raises(FingerspellError, match="no signer/group"):
        split_dataset(ds, by="group")
    with pytest.raises(FingerspellError, match="no signer/group"):
        loso_folds(ds)


def test_cli_split_and_loso(imported: Path, fs_home: Path, capsys) -> None:
    _open(imported, fs_home, "massey").close()
    assert main(["data", "split", "massey", "--by", "group", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "split by group" in out and "train" in out and "every class has train samples" in out
    assert main(["data", "split", "massey", "--loso", "--json"]) == 0
    folds = json.loads(capsys.readouterr().out)["folds"]
    assert [f["name"] for f in folds] == ["hand1", "hand2", "hand3", "hand4"]
    assert main(["data", "split", "massey", "--val", "0.6", "--test", "0.6"]) == 2
    assert "error: --val 0.6 + --test 0.6 leave nothing for train" in capsys.readouterr().err
    with Dataset.load("massey") as ds:
        assert ds.meta["split"]["by"] == "group" and ds.meta["split"]["seed"] == 2


def test_keep_test_keeps_the_downloads_test_split(datasets_root: Path) -> None:
    import gzip

    from fingerspell.data import SampleRecord

    records = []
    for split in ("train", "test"):
        with gzip.open(datasets_root / "sign-mnist" / f"sign_mnist_{split}.csv.gz", "rt") as f:
            next(f)
            for line_no, line in zip(range(2, 122), f):
                values = [int(v) for v in line.split(",")]
                records.append(SampleRecord(source=f"sign_mnist_{split}.csv.gz", row=line_no, split=split,
                                            label="ABCDEFGHIJKLMNOPQRSTUVWXYZ"[values[0]], width=28, height=28,
                                            pixels=bytes(values[1:])))
    ds = Dataset.create("mnist-bit", root=datasets_root / "sign-mnist", format="sign-mnist",
                        classes=sorted({r.label for r in records}), records=records)
    summary = split_dataset(ds, by="random", val=0.2, test=0.3, keep_test=True, seed=0)
    assert {s.id for s in ds.samples(split="test")} == {s.id for s in ds.samples() if s.original_split == "test"}
    assert summary.counts["test"] == 120 and summary.counts["train"] + summary.counts["val"] == 120
    assert all(s.original_split == "train" for s in ds.samples(split="val"))
    assert 0.15 < summary.counts["val"] / 120 < 0.3


def test_check_reports_photos_straddling_a_random_split_but_not_a_grouped_one(imported: Path, fs_home: Path) -> None:
    from fingerspell.data.check import check

    ds = _open(imported, fs_home, "letters")
    split_dataset(ds, by="random", seed=0)
    straddling = check(ds, progress=False).split_groups
    assert len(straddling) > 100  # augmented copies of one photo on both sides
    split_dataset(ds, by="group", seed=0)
    assert check(ds, progress=False).split_groups == {}
