"""Fuzz the query parser (against a real index), bundle loading and the speller.

Query: any text compiles and runs or is one QuerySyntaxError line, and never changes the
index (it is only ever read through parameterised SQL). Bundles: a damaged bundle.json or
model.onnx is one BundleError line when a Predictor loads it. Speller: any stream of smoothed
states and hand boxes (NaN, infinite, degenerate boxes, any class name) is taken without an
exception, through its public API only (Speller, update, text, commits, letters, reset).
"""
from __future__ import annotations

import functools
import gzip
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fingerspell.data import Dataset, import_dataset
from fingerspell.data.query import compile_query, count, query
from fingerspell.errors import FingerspellError
from fingerspell.infer.smoothing import SmootherState
from fingerspell.infer.speller import Speller
from tests.conftest import REPO, SHARED_DATASETS
from tests.fuzz.helpers import count as tally
from tests.fuzz.helpers import outcome_of

# ---- query -----------------------------------------------------------------------------------
TOKENS = ["label", "letter", "id", "split", "signer", "width", "height", "instances", "source", "row", "hash",
          "phash", "original_label", "==", "=", "!=", "<", "<=", ">", ">=", "in", "not", "and", "or", "contains",
          "startswith", "null", "(", ")", ",", '"A"', "'b'", '"train"', "1", "-2", "28", "1.5", "1e5", "-",
          '"', "'", "\\", ";", "DROP TABLE samples", "--", "/*", "?", "%", "_", "*", "99999999999999999999",
          "1e999", '"a\\"b"', "samples", "removed", "SELECT", "1=1", "'; DELETE FROM samples; --"]
COMPARISONS = [
    'label == "A"', "label != 'b'", "id < 10", "id >= 3", 'split == null', "width > 20", "instances == 0",
    'label in ("A", "B", "c")', 'label not in ("A")', 'source contains "mnist"', 'source startswith "sign"',
    "row <= 12", "signer == null", 'hash != null', "letter == 5", "height = 28",
]


@st.composite
def grammar_queries(draw) -> str:
    """A valid query (comparisons joined by and/or, with not and parentheses), then 0-2 tokens
    inserted, deleted or replaced: valid queries and their near misses."""
    parts = draw(st.lists(st.sampled_from(COMPARISONS), min_size=1, max_size=4))
    tokens: list[str] = []
    for k, part in enumerate(parts):
        if k:
            tokens.append(draw(st.sampled_from(["and", "or", "AND", "Or"])))
        prefix = draw(st.sampled_from(["", "", "not ", "(", "not (", "((("]))
        tokens.append(prefix + part + ")" * prefix.count("("))
    for position, token, action in draw(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(TOKENS),
                                                           st.sampled_from(["insert", "delete", "replace"])),
                                                 max_size=2)):
        at = position % (len(tokens) + 1)
        if action == "insert":
            tokens.insert(at, token)
        elif tokens:
            at = min(at, len(tokens) - 1)
            if action == "delete":
                tokens.pop(at)
            else:
                tokens[at] = token
    return " ".join(tokens)


queries = grammar_queries() | st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join) | st.text(max_size=40)


@functools.cache
def mnist_rows() -> bytes:
    with gzip.open(SHARED_DATASETS / "sign-mnist" / "sign_mnist_train.csv.gz", "rb") as handle:
        return b"".join(handle.readline() for _ in range(31))


@pytest.fixture
def letters(tmp_path, datasets_root) -> Dataset:
    path = tmp_path / "sign_mnist_train.csv"
    path.write_bytes(mnist_rows())
    ds = import_dataset(path, name="letters")
    yield ds
    ds.close()


@given(expr=queries)
def test_fuzz_query(letters, expr):
    total = letters.count()

    def run():
        compile_query(expr)
        matched = count(letters, expr)
        samples = query(letters, expr, limit=5)
        assert 0 <= matched <= total and len(samples) == min(5, matched)
        return matched

    outcome_of("query", run)
    assert letters.count() == total


# ---- bundle loading ----------------------------------------------------------------------------
DEFAULT_BUNDLE = REPO / "src" / "fingerspell" / "models" / "default"
MANIFEST_KEYS = ["labels", "input", "input.kind", "input.shape", "input.features", "input.names", "hands",
                 "hands.model_complexity", "hands.zoom", "hands.refine_steps", "hands.tracking_model_complexity",
                 "hands.min_detection_confidence", "name", "version", "test_time_views", "labels.0", "input.shape.1"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.sampled_from([2**64, -1, 0, 1, 372, 26, "A", "landmarks", "image", "lm-v1", "plain"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=5,
)


def _set(manifest: dict, dotted: str, value) -> None:
    *path, last = dotted.split(".")
    node = manifest
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, list) and last.isdigit() and node:
        if value is ...:
            node.pop(int(last) % len(node))
        else:
            node[int(last) % len(node)] = value
    elif isinstance(node, dict):
        if value is ... :
            node.pop(last, None)
        else:
            node[last] = value


@given(hits=st.lists(st.tuples(st.sampled_from(MANIFEST_KEYS), json_values | st.just(...)), max_size=2),
       model=st.sampled_from(["keep"] * 3 + ["empty", "cut", "garbage", "text"]),
       raw=st.none() | st.sampled_from(["", "{", "[]", "null", "\ufeff{}", '{"labels": []}']))
def test_fuzz_bundle_loading(tmp_path, hits, model, raw):
    from fingerspell.infer.predictor import Predictor

    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, folder)
    manifest = json.loads((folder / "bundle.json").read_text())
    for key, value in hits:
        _set(manifest, key, value)
    (folder / "bundle.json").write_text(raw if raw is not None else json.dumps(manifest))
    onnx = folder / "model.onnx"
    if model == "empty":
        onnx.write_bytes(b"")
    elif model == "cut":
        onnx.write_bytes(onnx.read_bytes()[:4000])
    elif model == "garbage":
        onnx.write_bytes(b"\x08\x07" + bytes(range(256)) * 8)
    elif model == "text":
        onnx.write_text("not a model")
    result = outcome_of("bundle", lambda: Predictor(folder, test_views=False), check_index=False)
    if not isinstance(result, FingerspellError):
        assert result.labels and all(isinstance(label, str) for label in result.labels)


# ---- speller -----------------------------------------------------------------------------------
finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32) | st.sampled_from([0.0, 1.0, 100.0, -5.0])
boxes = st.none() | st.tuples(finite_or_not, finite_or_not, finite_or_not, finite_or_not)
letters_or_classes = st.none() | st.sampled_from(["A", "B", "L", "J", "Z", "space", "del", "nothing"]) | st.text(max_size=4)
frames = st.lists(st.tuples(letters_or_classes, st.floats(0, 1), st.booleans(), st.integers(0, 100), boxes,
                            st.none() | st.floats(allow_nan=True, allow_infinity=True)), max_size=60)
options = st.fixed_dictionaries({}, optional={
    "space_after": st.integers(-3, 40), "move": st.floats(-1, 2), "move_window": st.integers(-2, 40),
    "settle": st.integers(-2, 10), "still": st.floats(-1, 1)})


# Inf or NaN boxes make numpy warn inside the speller (no exception): expected for such input.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@given(options=options, frames=frames, reset_at=st.none() | st.integers(0, 60))
def test_fuzz_speller(options, frames, reset_at):
    def run():
        speller = Speller(**options)
        for index, (letter, confidence, changed, missing, box, when) in enumerate(frames):
            if index == reset_at:
                speller.reset()
            state = SmootherState(letter=letter, confidence=confidence if letter else 0.0, changed=changed,
                                  hand=letter is not None, missing=0 if letter else missing)
            commits = speller.update(state, box, index, when)
            for commit in commits:
                assert commit.frame == index and commit.kind in ("letter", "double", "space", "del")
        assert isinstance(speller.text, str)
        kept = speller.letters()
        assert all(isinstance(c, dict) and "letter" in c for c in kept)
        json.dumps(kept)  # serialisable as the report needs it
        return speller

    outcome_of("speller", run, check_index=False)
    tally("speller-frames", "fed")  # one more stream fed
