"""Issue 15, case 4: inputs that gave a traceback now give one `error:` line and change nothing.

The inputs are the report's own: a COCO `image_id` that is a JSON list, a query number past
64 bits, 500 nested parentheses, 400 `not`s, 7,000 `or`s, a relabel of sample
99999999999999999999, a `--name` of 300 characters.
"""
from __future__ import annotations

import json

import pytest

from fingerspell import home
from fingerspell.data import Dataset, import_dataset
from fingerspell.data.query import MAX_COMPARISONS, MAX_DEPTH, compile_query, count
from tests.data.test_bad_input import mnist_lines, write_mnist
from tests.data.helpers import datasets_snapshot, one_error, one_image_coco


@pytest.fixture
def small(tmp_path, datasets_root) -> Dataset:
    ds = import_dataset(write_mnist(tmp_path / "mnist", mnist_lines(datasets_root, 20)), name="small")
    yield ds
    ds.close()


def test_coco_image_id_that_is_a_list(tmp_path, datasets_root, capsys):
    root, document = one_image_coco(tmp_path, datasets_root)
    document["annotations"][0]["image_id"] = [0]
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    message = one_error(capsys, ["data", "import", str(root)])
    assert "_annotations.coco.json: annotation 0 names image id [0], which is not in `images`" in message
    # The same list as an image id, and as a category id.
    document["annotations"][0]["image_id"] = 0
    document["images"][0]["id"] = [0]
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    assert "which is not in `images`" in one_error(capsys, ["data", "import", str(root)])
    document["images"][0]["id"] = 0
    document["annotations"][0]["category_id"] = {"id": 0}
    (root / "_annotations.coco.json").write_text(json.dumps(document))
    assert "is not in `categories`" in one_error(capsys, ["data", "import", str(root)])


@pytest.mark.parametrize("expr, expected", [
    ("id == 99999999999999999999999", "number 99999999999999999999999 at column 7 is out of range"),
    ("(" * 500 + 'label == "A"' + ")" * 500, f"nests deeper than {MAX_DEPTH}"),
    ("not " * 400 + 'label == "A"', f"nests deeper than {MAX_DEPTH}"),
    (" or ".join(['label == "A"'] * 7000), "characters long"),
    (" or ".join(["id==1"] * 1000), f"more than {MAX_COMPARISONS} comparisons"),
    ("width > 1e999", "out of range"),
])
def test_query_limits_are_one_line(small, capsys, expr, expected):
    before = datasets_snapshot()
    message = one_error(capsys, ["data", "query", "small", expr])
    assert expected in message
    assert datasets_snapshot() == before


def test_the_largest_accepted_queries_run(small):
    """Right under each limit SQLite still runs the query (the limits are not too loose)."""
    deep = "(" * (MAX_DEPTH - 1) + "not " + 'label == "A"' + ")" * (MAX_DEPTH - 1)
    nots = "not " * MAX_DEPTH + 'label == "A"'
    wide = " or ".join(f"id == {i}" for i in range(MAX_COMPARISONS))
    in_list = f"id in ({', '.join(str(i) for i in range(899))})"
    total = small.count()
    a = sum(1 for s in small.samples() if s.label == "A")
    assert count(small, deep) == total - a
    assert count(small, nots) == (a if MAX_DEPTH % 2 == 0 else total - a)
    assert count(small, wide) == total
    assert count(small, in_list) == total
    compile_query("id == 9223372036854775807")  # the largest 64-bit integer is fine


def test_fix_with_a_huge_sample_id(small, capsys):
    before = datasets_snapshot()
    message = one_error(capsys, ["data", "fix", "small", "--relabel", "99999999999999999999=N"])
    assert "has no sample with id 99999999999999999999" in message
    message = one_error(capsys, ["data", "fix", "small", "--remove", "99999999999999999999"])
    assert "has no sample with id" in message
    message = one_error(capsys, ["data", "fix", "small", "--undo", "99999999999999999999"])
    assert "no fix 99999999999999999999" in message
    assert datasets_snapshot() == before


def test_name_of_300_characters(tmp_path, datasets_root, capsys):
    path = write_mnist(tmp_path / "other", mnist_lines(datasets_root, 5))
    message = one_error(capsys, ["data", "import", str(path), "--name", "n" * 300])
    assert "invalid dataset name" in message and "300 characters long (at most 64)" in message
    message = one_error(capsys, ["data", "info", "n" * 300])
    assert "invalid dataset name" in message
    assert not home.datasets_dir().exists() or not list(home.datasets_dir().glob("n*"))
