"""Fuzz every importer: any file or folder is imported or refused with one line, never a
traceback, and a refused import leaves the datasets folder as it was.

Inputs start from real files (rows of the Sign-MNIST CSV, asl-letters photos and boxes) and
are bent by hypothesis: mutated bytes, odd names (path separators, `..`, control characters,
reserved names), symbolic links in and out of the folder, wrong types in JSON and YAML,
numbers past every range, arrays of the wrong shape and type.
"""
from __future__ import annotations

import functools
import gzip
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fingerspell.data import import_dataset
from tests.conftest import SHARED_DATASETS
from tests.fuzz.helpers import try_import

# ---- shared real material -------------------------------------------------------------------
@functools.cache
def material() -> dict:
    """Real pieces of the shared datasets, read once (a module-level cache, not a fixture, so
    hypothesis does not print them with every failing example)."""
    letters = SHARED_DATASETS / "asl-letters" / "train"
    images = sorted((letters / "images").iterdir())[:2]
    with gzip.open(SHARED_DATASETS / "sign-mnist" / "sign_mnist_train.csv.gz", "rb") as handle:
        mnist = b"".join(handle.readline() for _ in range(4))
    return {
        "jpgs": [(p.name, p.read_bytes()) for p in images],
        "mnist": mnist,
        "labels": [(letters / "labels" / f"{p.stem}.txt").read_text() for p in images],
    }


@pytest.fixture(autouse=True)
def kept_index(tmp_path: Path, datasets_root: Path):
    """A good index that no refused import may touch (the snapshot covers its bytes)."""
    path = tmp_path / "kept.csv"
    path.write_bytes(material()["mnist"])
    import_dataset(path, name="kept").close()


def workdir(tmp_path: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_path))


# Names: letters of several scripts, digits, and everything that means something to a path.
NAME_CHARS = list("aAzZ09 _-.+'/\\:*?<>|\"\t\n\r\x00\x7fé€ßЖ漢") + ["..", "con", "~", "$HOME", "%s"]
names = st.lists(st.sampled_from(NAME_CHARS), min_size=0, max_size=6).map("".join) | st.sampled_from(
    ["a", "B", "del", "nothing", "space", "7", "..", ".", "/", "/etc", "../../..", "con", "aux.txt", "x" * 70, "", " "])
numbers = st.sampled_from(["0", "1", "0.5", "-3", "416", "1e309", "-1e309", "nan", "inf", "", "abc", " 7 ", "1,5",
                           "99999999999999999999", "0x10", "1e5", "-0"]) | st.floats(allow_nan=True).map(repr)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from([2**64, -2**63, 0, 1, "0", "A", "../x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace data[pos:pos+length] with payload for each edit (positions wrap around)."""
    for pos, length, payload in edits:
        at = pos % (len(data) + 1)
        data = data[:at] + payload + data[at + length:]
    return data


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.sampled_from(
    [b",", b"\n", b"\r\n", b"-1", b"256", b"9" * 30, b"", b" ", b"\x00", b"\xff\xfe", b"abc", b"1e5", b"25", b"9",
     b"label,pixel1", b",,", b'"', b"\xe9"])), max_size=6)


# ---- sign-mnist ------------------------------------------------------------------------------
@given(edits=edits, gz=st.sampled_from(["plain", "gzip", "broken-gzip"]), format=st.sampled_from(["auto", "sign-mnist"]))
def test_fuzz_sign_mnist(tmp_path, edits, gz, format):
    real = material()
    folder = workdir(tmp_path)
    data = mutate(real["mnist"], edits)
    if gz == "plain":
        path = folder / "sign_mnist_train.csv"
        path.write_bytes(data)
    else:
        path = folder / "sign_mnist_train.csv.gz"
        packed = gzip.compress(data)
        path.write_bytes(packed if gz == "gzip" else packed[: len(packed) // 2])
    try_import("sign-mnist", path, format)


# ---- class folders -------------------------------------------------------------------------------
files = st.lists(st.tuples(names, st.sampled_from([".jpg", ".png", ".txt", "", ".JPEG"]), st.sampled_from(
    ["jpg", "garbage", "empty", "huge-header", "link-inside", "link-outside", "link-dangling", "folder"])),
    min_size=0, max_size=4)


def _huge_png_header() -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF))


def _write(folder: Path, name: str, kind: str, real: dict, outside: Path) -> None:
    path = folder / name
    if kind == "jpg":
        path.write_bytes(real["jpgs"][0][1])
    elif kind == "garbage":
        path.write_bytes(b"\x00\x01not an image" * 3)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge-header":
        path.write_bytes(_huge_png_header())
    elif kind == "link-inside":
        path.symlink_to(folder)
    elif kind == "link-outside":
        path.symlink_to(outside)
    elif kind == "link-dangling":
        path.symlink_to(folder / "nowhere.jpg")
    else:
        path.mkdir()


@given(extra=st.lists(st.tuples(names, files), max_size=2), rename=st.none() | names, wrap=st.booleans(),
       split=st.sampled_from([None, None, "train", "valid", "Test"]))
def test_fuzz_folders(tmp_path, extra, rename, wrap, split):
    """Two good class folders (a/, B/ with a photo each), plus 0-2 hostile class folders, and
    perhaps one good folder renamed to a hostile name."""
    real = material()
    folder = workdir(tmp_path)
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(real["jpgs"][1][1])
    root = folder / "data"
    base = root / (split or "") / ("wrapper" if wrap else "")
    classes = [(rename if rename is not None else "a", [("x", ".jpg", "jpg")]), ("B", [("y", ".jpg", "jpg")])]
    for class_name, entries in classes + extra:
        try:
            (base / class_name).mkdir(parents=True, exist_ok=True)
            for stem, suffix, kind in entries:
                if not os.path.lexists(base / class_name / f"{stem}{suffix}"):
                    _write(base / class_name, f"{stem}{suffix}", kind, real, outside)
        except (OSError, ValueError):
            assume(False)  # a name the file system itself refuses: not an input anyone can give
    try_import("folders", root, "folders")
    try_import("folders-auto", root)


# ---- damage: a valid input with a few fields replaced by hostile values ---------------------
# Most generated inputs start valid and get 0-2 fields damaged, so every importer is tried
# both on what it accepts and on near misses (a fully random input is refused at once).
hostile = names | numbers | json_values | st.sampled_from(
    ["/etc/passwd", ".bashrc", "../REAL0", "/", "../../..", "images/REAL0", "missing.jpg", "link.jpg"])


def damage(count: int = 2):
    return st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), hostile), max_size=count)


def _real_names(value, real: dict):
    if isinstance(value, str):
        return value.replace("REAL0", real["jpgs"][0][0]).replace("REAL1", real["jpgs"][1][0])
    return value


def _outside_link(root: Path, tmp_path: Path, real: dict) -> None:
    secret = tmp_path / "secret-outside.jpg"
    secret.write_bytes(real["jpgs"][0][1])
    (root / "link.jpg").symlink_to(secret)


def flat_folder(tmp_path: Path, real: dict, link: bool) -> Path:
    """A fresh folder with the real photos beside a non-image file (and, with `link`, a symlink
    to a photo outside it): what a boxes file (corners CSV, COCO) may try to name."""
    root = workdir(tmp_path)
    for name, data in real["jpgs"]:
        (root / name).write_bytes(data)
    (root / ".bashrc").write_text("echo hi\n")
    if link:
        _outside_link(root, tmp_path, real)
    return root


# ---- YOLO --------------------------------------------------------------------------------------
YOLO_KEYS = ["names", "nc", "train", "val", "test", "path", "names.0", "names.1"]


@given(hits=damage(), label_edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 8), st.sampled_from(
    [b"", b" ", b"\n", b"9", b"-1", b"1e9", b"nan", b"x", b"0 0.5 0.5 0.1 0.1\n", b"26", b"\x00"])), max_size=3),
    raw_yaml=st.none() | st.text(max_size=40))
def test_fuzz_yolo(tmp_path, hits, label_edits, raw_yaml):
    real = material()
    root = workdir(tmp_path)
    (root / "train" / "images").mkdir(parents=True)
    (root / "train" / "labels").mkdir(parents=True)
    for (name, data), label in zip(real["jpgs"], real["labels"]):
        (root / "train" / "images" / name).write_bytes(data)
        (root / "train" / "labels" / f"{Path(name).stem}.txt").write_bytes(mutate(label.encode(), label_edits))
    config: dict = {"train": "train/images", "nc": 26, "names": [chr(65 + i) for i in range(26)]}
    for key_index, _, value in hits:
        key = YOLO_KEYS[key_index % len(YOLO_KEYS)]
        if key.startswith("names."):
            if isinstance(config["names"], list) and config["names"]:
                config["names"][int(key[-1]) % len(config["names"])] = value
        else:
            config[key] = value
    try:
        text = json.dumps(config) if raw_yaml is None else raw_yaml  # JSON is YAML
    except ValueError:
        assume(False)
    (root / "data.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try_import("yolo", root, "yolo")


# ---- corners CSV ------------------------------------------------------------------------------
HEADERS = [
    ["filename", "xmin", "ymin", "xmax", "ymax", "label"],
    ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"],
    ["file", "x1", "y1", "x2", "y2", "letter"],
    ["filename", "xmin", "ymin", "xmax", "ymax"],
]
VALID_CELLS = {"filename": "REAL0", "file": "REAL0", "xmin": "10", "ymin": "12", "xmax": "200", "ymax": "210",
               "x1": "10", "y1": "12", "x2": "200", "y2": "210", "width": "416", "height": "416",
               "label": "A", "class": "a", "letter": "B"}


@given(header=st.integers(0, 3), rows=st.integers(0, 3), hits=damage(3), link=st.booleans())
def test_fuzz_corners_csv(tmp_path, header, rows, hits, link):
    real = material()
    root = flat_folder(tmp_path, real, link)
    columns = HEADERS[header % len(HEADERS)]
    table = [[VALID_CELLS[c].replace("REAL0", f"REAL{r % 2}") for c in columns] for r in range(rows)]
    for row, column, value in hits:
        if table:
            table[row % len(table)][column % len(columns)] = str(value)
    lines = [",".join(columns)] + [",".join(_real_names(cell, real) for cell in cells) for cells in table]
    (root / "_annotations.csv").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    try_import("corners-csv", root, "corners-csv")


# ---- COCO --------------------------------------------------------------------------------------
COCO_FIELDS = [("images", "id"), ("images", "file_name"), ("images", "width"), ("images", "height"),
               ("annotations", "image_id"), ("annotations", "category_id"), ("annotations", "bbox"),
               ("annotations", "id"), ("categories", "id"), ("categories", "name"), ("categories", "supercategory"),
               ("images", None), ("annotations", None), ("categories", None), (None, None)]


@given(hits=damage(), link=st.booleans())
def test_fuzz_coco(tmp_path, hits, link):
    real = material()
    root = flat_folder(tmp_path, real, link)
    document: dict = {
        "images": [{"id": i, "file_name": f"REAL{i}", "width": 416, "height": 416} for i in range(2)],
        "annotations": [{"id": i, "image_id": i, "category_id": i, "bbox": [10, 10, 50, 60]} for i in range(2)],
        "categories": [{"id": 0, "name": "A", "supercategory": "letters"}, {"id": 1, "name": "b"},
                       {"id": 2, "name": "letters"}],
    }
    for field_index, item, value in hits:
        section, key = COCO_FIELDS[field_index % len(COCO_FIELDS)]
        if section is None:
            document = value if not isinstance(value, dict) else {**document, **value}
        elif isinstance(document, dict) and isinstance(document.get(section), list) and document[section]:
            entries = document[section]
            if key is None:
                entries[item % len(entries)] = value
            elif isinstance(entries[item % len(entries)], dict):
                entries[item % len(entries)][key] = value
    document = json.loads(json.dumps(document, allow_nan=True))
    for entry in document.get("images", []) if isinstance(document, dict) and isinstance(document.get("images"), list) else []:
        if isinstance(entry, dict):
            entry["file_name"] = _real_names(entry.get("file_name"), real)
    (root / "_annotations.coco.json").write_text(json.dumps(document), encoding="utf-8", errors="surrogatepass")
    try_import("coco", root, "coco")


# ---- landmarks .npz -----------------------------------------------------------------------------
@given(n=st.integers(0, 4), shape=st.sampled_from(["n,21,3"] * 4 + ["n,63", "n,21,2", "n", "scalar", "n,21,3,1"]),
       dtype=st.sampled_from(["float32"] * 3 + ["float64", "float16", "int32", "bool", "complex64", "U3"]),
       special=st.sampled_from([None] * 3 + [np.nan, np.inf, -np.inf, 1e30]),
       labels=st.lists(st.sampled_from(["A", "b", "Z", "nothing"]) | names | st.integers(-5, 30).map(str), max_size=5),
       label_count=st.sampled_from(["n"] * 4 + ["n-1", "n+1"]),
       label_kind=st.sampled_from(["str", "str", "bytes", "int", "object"]),
       keys=st.sampled_from([("x", "y")] * 4 + [("x",), ("y",), ("x", "y", "z"), ("X", "Y")]),
       cut=st.sampled_from([None] * 4 + [0, 10, 100, 500, 1000, -10]))
def test_fuzz_landmarks_npz(tmp_path, n, shape, dtype, special, labels, label_count, label_kind, keys, cut):
    root = workdir(tmp_path)
    dims = {"n,21,3": (n, 21, 3), "n,63": (n, 63), "n,21,2": (n, 21, 2), "n": (n,), "scalar": (),
            "n,21,3,1": (n, 21, 3, 1)}[shape]
    x = np.random.default_rng(0).random(dims).astype(dtype)
    if special is not None and x.size and x.dtype.kind == "f":
        with np.errstate(over="ignore"):  # 1e30 in float16 is inf: input the importer must handle
            x.flat[0] = special
    wanted = max(0, {"n": n, "n-1": n - 1, "n+1": n + 1}[label_count])
    labels = (labels + ["A"] * wanted)[:wanted]
    if label_kind == "int":
        y = np.array([len(v) for v in labels], dtype=np.int64)
    elif label_kind == "bytes":
        y = np.array([v.encode("utf-8", "surrogatepass") for v in labels], dtype=bytes)
    elif label_kind == "object":
        y = np.array(labels + [None], dtype=object)
    else:
        y = np.array(labels, dtype=str)
    arrays = {k: {"x": x, "X": x, "y": y, "Y": y, "z": x}[k] for k in keys}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    path = root / "landmarks.npz"
    path.write_bytes(data if cut is None else data[:cut])
    try_import("landmarks", path, "landmarks")


def test_fuzz_suite_covers_every_importer():
    """Every registered format has a property above (a new format needs one too)."""
    from fingerspell.data.formats import list_formats

    covered = {"sign-mnist", "folders", "yolo", "corners-csv", "coco", "landmarks"}
    assert set(list_formats()) == covered
    assert zipfile and os  # imported for the strategies' file handling
