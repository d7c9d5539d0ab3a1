"""`data check` on a folder of real asl-letters photos with planted problems."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerspell.cli import main
from fingerspell.data import Box, Dataset, SampleRecord
from fingerspell.data.check import check, near_duplicate_pairs, phash
from fingerspell.data.importer import import_dataset
from fingerspell.errors import FingerspellError

PHOTOS_PER_LETTER = 8


def _one_copy_per_photo(images: Path, letter: str, n: int) -> list[Path]:
    """The first augmented copy of each of the first `n` source photos of `letter`."""
    seen: dict[str, Path] = {}
    for path in sorted(images.glob(f"{letter}*.jpg")):
        seen.setdefault(path.name.split("_jpg")[0], path)
    return list(seen.values())[:n]


@pytest.fixture
def planted(datasets_root: Path, tmp_path: Path) -> dict:
    """Class folders of real photos with an exact copy and a re-encoded, resized near copy;
    imported, then one file truncated, one overwritten with garbage and one deleted."""
    images = datasets_root / "asl-letters" / "train" / "images"
    root = tmp_path / "planted"
    files: dict[str, list[Path]] = {}
    for letter in "ABCD":
        (root / letter).mkdir(parents=True)
        files[letter] = []
        for src in _one_copy_per_photo(images, letter, PHOTOS_PER_LETTER):
            dst = root / letter / src.name
            shutil.copy(src, dst)
            files[letter].append(dst)
    exact = root / "A" / "zz_exact_copy.jpg"
    shutil.copy(files["A"][0], exact)
    original_b = files["B"][0]
    image = cv2.imread(str(original_b))
    smaller = cv2.resize(image, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    near = root / "B" / "zz_near_copy.jpg"
    cv2.imwrite(str(near), smaller, [cv2.IMWRITE_JPEG_QUALITY, 35])

    ds = import_dataset(root, format="folders", name="planted")
    by_name = {Path(s.source).name: s.id for s in ds.samples()}

    truncated, garbage, missing = files["C"][0], files["D"][0], files["D"][1]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, size=5000, dtype=np.uint8).tobytes())
    missing.unlink()

    ids = {
        "exact_original": by_name[files["A"][0].name], "exact_copy": by_name[exact.name],
        "near_original": by_name[original_b.name], "near_copy": by_name[near.name],
        "truncated": by_name[truncated.name], "garbage": by_name[garbage.name], "missing": by_name[missing.name],
    }
    # the originals train, the copies are evaluated: both pairs leak across splits
    splits = {sid: "train" for sid in by_name.values()}
    splits[ids["exact_copy"]] = "test"
    splits[ids["near_copy"]] = "val"
    ds.assign_splits(splits)
    return {"ds": ds, "ids": ids, "root": root, "files": files}


def test_planted_problems_are_reported(planted: dict) -> None:
    ds, ids = planted["ds"], planted["ids"]
    report = check(ds, progress=False)
    corrupt = {p.sample_id: p.detail for p in report.problems_of("corrupt")}
    assert set(corrupt) == {ids["truncated"], ids["garbage"]}
    assert "truncated JPEG" in corrupt[ids["truncated"]]
    assert "cannot decode" in corrupt[ids["garbage"]]
    assert [p.sample_id for p in report.problems_of("missing")] == [ids["missing"]]

    assert report.exact_groups == [sorted([ids["exact_original"], ids["exact_copy"]])]
    near = {(p.a, p.b): p for p in report.near_pairs}
    pair = tuple(sorted([ids["near_original"], ids["near_copy"]]))
    assert pair in near and near[pair].distance <= report.near_threshold

    leaks = {(p.a, p.b): p.kind for p in report.leaks}
    assert leaks[tuple(sorted([ids["exact_original"], ids["exact_copy"]]))] == "exact"
    assert leaks[pair] == "near"
    assert report.leak_counts().get("test-train", 0) >= 1 and report.leak_counts().get("train-val", 0) >= 1
    assert not report.ok

    text = report.summary()
    assert "unreadable or corrupt images: 2" in text and "missing files: 1" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"]["corrupt"] == 2 and data["counts"]["leak-pairs"] == len(report.leaks)


def test_recheck_reuses_stored_hashes_and_sees_changed_files(planted: dict) -> None:
    ds, ids = planted["ds"], planted["ids"]
    first = check(ds, progress=False)
    assert first.hashed == ds.count() - 3  # every readable image hashed once
    stored = ds.db.execute("SELECT COUNT(*) FROM samples WHERE phash IS NOT NULL").fetchone()[0]
    assert stored == first.hashed

    again = check(ds, progress=False)
    assert again.hashed == 0
    assert again.exact_groups == first.exact_groups
    assert [(p.a, p.b) for p in again.near_pairs] == [(p.a, p.b) for p in first.near_pairs]
    assert {p.sample_id for p in again.problems_of("corrupt")} == {ids["truncated"], ids["garbage"]}

    # Re-save one file: it is flagged as changed since import and re-hashed.
    changed = planted["files"]["C"][1]
    cv2.imwrite(str(changed), cv2.imread(str(changed)), [cv2.IMWRITE_JPEG_QUALITY, 50])
    third = check(ds, progress=False)
    assert third.hashed == 1
    modified = {Path(p.where).name for p in third.problems_of("modified")}
    # the truncated and garbage files changed after import too
    assert modified == {changed.name, planted["files"]["C"][0].name, planted["files"]["D"][0].name}


def test_box_and_label_problems(datasets_root: Path) -> None:
    images = datasets_root / "asl-letters" / "train" / "images"
    photos = sorted(images.glob("E*.jpg"))[:5]
    sizes = [cv2.imread(str(p)).shape[:2] for p in photos]
    boxes = [
        [Box(10, 10, 100, 100, "E")],                                   # fine
        [Box(10, 10, sizes[1][1] + 40, 100, "E")],                      # past the right edge
        [Box(50, 50, 50, 120, "E")],                                    # zero width
        [Box(10, 10, 100, 100, "E"), Box(120, 120, 200, 200, "E")],     # two hands
        [Box(10, 10, 100, 100, "Q")],                                   # box label not a class
    ]
    records = [
        SampleRecord(source=p.name, label="E", width=w, height=h, boxes=b)
        for p, (h, w), b in zip(photos, sizes, boxes)
    ]
    ds = Dataset.create("boxes", root=images, format="yolo", classes=["E", "F"], records=records)
    ids = [s.id for s in ds.samples()]
    report = check(ds, progress=False)
    assert [p.sample_id for p in report.problems_of("box-outside")] == [ids[1]]
    assert [p.sample_id for p in report.problems_of("box-empty")] == [ids[2]]
    assert [p.sample_id for p in report.problems_of("multi-box")] == [ids[3]]
    assert [p.sample_id for p in report.problems_of("unknown-label")] == [ids[4]]
    assert report.problems_of("corrupt") == [] and report.problems_of("missing") == []

    # a class list that no longer has the samples' label: every sample is flagged
    ds.set_meta("classes", ["F"])
    assert {p.sample_id for p in check(ds, progress=False).problems_of("unknown-label")} == set(ids)


def test_pixel_rows_exact_duplicate_across_splits_is_a_leak(datasets_root: Path) -> None:
    rows = []
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as f:
        next(f)
        for line_no, line in zip(range(2, 42), f):
            values = [int(v) for v in line.split(",")]
            rows.append((line_no, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[values[0]], bytes(values[1:])))
    records = [SampleRecord(source="sign_mnist_test.csv.gz", row=n, label=l, width=28, height=28, pixels=p, split="test")
               for n, l, p in rows]
    # the first test row planted again as a training row (the real Sign-MNIST has such overlaps)
    records.append(SampleRecord(source="sign_mnist_train.csv.gz", row=2, label=rows[0][1], width=28, height=28,
                                pixels=rows[0][2], split="train"))
    ds = Dataset.create("mnist-bit", root=datasets_root / "sign-mnist", format="sign-mnist",
                        classes=sorted({r.label for r in records}), records=records)
    report = check(ds, progress=False)
    assert report.hashed == len(records)
    assert report.exact_groups == [[1, len(records)]]
    assert [(p.a, p.b, p.kind) for p in report.leaks if p.kind == "exact"] == [(1, len(records), "exact")]


def test_band_search_finds_exactly_what_brute_force_finds() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**63, size=200, dtype=np.uint64)
    hashes = []
    for value in base:  # clusters of hashes a few bits apart
        for _ in range(4):
            flipped = int(value)
            for bit in rng.choice(64, size=int(rng.integers(0, 10)), replace=False):
                flipped ^= 1 << int(bit)
            hashes.append(flipped)
    hashes = np.array(hashes, dtype=np.uint64)
    dist = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    for threshold in (0, 4, 6, 12):
        pairs = near_duplicate_pairs(hashes, threshold)
        ii, jj = np.nonzero(np.triu(dist <= threshold, 1))
        assert set(map(tuple, pairs[:, :2].tolist())) == set(zip(ii.tolist(), jj.tolist()))
        assert (pairs[:, 2] == dist[pairs[:, 0], pairs[:, 1]]).all()
    with pytest.raises(FingerspellError, match="between 0 and 32"):
        near_duplicate_pairs(hashes, 40)


def test_phash_survives_reencoding_but_tells_photos_apart(datasets_root: Path) -> None:
    images = datasets_root / "asl-letters" / "train" / "images"
    a, b = (cv2.imread(str(p)) for p in _one_copy_per_photo(images, "K", 2))
    ok, buf = cv2.imencode(".jpg", cv2.resize(a, None, fx=0.5, fy=0.5), [cv2.IMWRITE_JPEG_QUALITY, 30])
    again = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert (phash(a) ^ phash(again)).bit_count() <= 6
    assert (phash(a) ^ phash(b)).bit_count() > 6


def test_cli_check_json_and_exit_codes(planted: dict, capsys) -> None:
    assert main(["data", "check", "planted", "--json"]) == 1  # corrupt files and leaks: not ok
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["corrupt"] == 2 and data["counts"]["missing"] == 1 and data["leaks"]

    # fix the set: restore the files, drop the copies -> clean, exit 0
    ds, ids = planted["ds"], planted["ids"]
    for key in ("truncated", "garbage", "missing", "exact_copy", "near_copy"):
        ds.add_fix(ids[key], "remove", reason="planted problem")
    assert main(["data", "check", "planted", "--no-progress", "--near-threshold", "4"]) == 0
    out = capsys.readouterr().out
    assert "unreadable or corrupt images: 0" in out and "leaks (duplicate pairs on different splits): 0" in out

    assert main(["data", "check", "planted", "--near-threshold", "99"]) == 2
    assert "between 0 and 32" in capsys.readouterr().err
