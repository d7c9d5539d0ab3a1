"""`data query`: the expression language, on a real asl-letters subset imported from YOLO."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerspell.cli import main
from fingerspell.data import Dataset, SampleRecord
from fingerspell.data.importer import import_dataset
from fingerspell.data.query import compile_query, count, query
from fingerspell.data.sheet import contact_sheet
from fingerspell.errors import QuerySyntaxError

LETTERS = ("A", "B", "C")


@pytest.fixture
def letters_copy(datasets_root: Path, tmp_path: Path) -> tuple[Path, str]:
    """A YOLO copy of asl-letters with only A, B, C, where one B image gets a second box.
    Returns (copy root, the stem of the two-box image)."""
    src = datasets_root / "asl-letters"
    dst = tmp_path / "letters"
    (dst / "train" / "images").mkdir(parents=True)
    (dst / "train" / "labels").mkdir(parents=True)
    shutil.copy(src / "data.yaml", dst / "data.yaml")
    for image in sorted((src / "train" / "images").iterdir()):
        if image.name[0] in LETTERS:
            shutil.copy(image, dst / "train" / "images" / image.name)
            label = src / "train" / "labels" / (image.stem + ".txt")
            shutil.copy(label, dst / "train" / "labels" / label.name)
    two_box = sorted(p for p in (dst / "train" / "images").iterdir() if p.name.startswith("B"))[3]
    label_file = dst / "train" / "labels" / (two_box.stem + ".txt")
    # a second, smaller B box in the top-left corner
    label_file.write_text(label_file.read_text().rstrip("\n") + "\n1 0.2 0.2 0.1 0.1\n")
    return dst, two_box.name


@pytest.fixture
def letters(letters_copy: tuple[Path, str]) -> Dataset:
    root, _ = letters_copy
    return import_dataset(root, format="yolo", name="letters-abc")


def test_label_equals_returns_exactly_the_folder_listing(letters: Dataset, letters_copy: tuple[Path, str]) -> None:
    root, _ = letters_copy
    listed = sorted(p.name for p in (root / "train" / "images").iterdir() if p.name.startswith("A"))
    found = sorted(Path(s.source).name for s in query(letters, 'label == "A"'))
    assert len(listed) > 30
    assert found == listed
    assert all(s.label == "A" for s in query(letters, "label == 'a'"))  # labels compare without case
    assert count(letters, 'label == "A"') == len(listed)


def test_instances_greater_than_one_finds_the_two_box_image(letters: Dataset, letters_copy, tmp_path: Path) -> None:
    _, two_box_name = letters_copy
    hits = query(letters, "instances > 1")
    assert [Path(s.source).name for s in hits] == [two_box_name]
    assert hits[0].instances == 2 and len(hits[0].boxes) == 2
    assert [Path(s.source).name for s in query(letters, "boxes >= 2")] == [two_box_name]  # alias
    assert count(letters, "instances == 1") == letters.count() - 1

    sheet = tmp_path / "two-boxes.png"
    info = contact_sheet(letters, hits, sheet)
    assert (info.shown, info.total) == (1, 1)
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 100
    # the box colour (pure-ish green) is drawn on the thumbnail
    green = (image[:, :, 1] > 200) & (image[:, :, 0] < 40) & (image[:, :, 2] < 40)
    assert green.sum() > 50


def test_combined_expressions_match_python_filters(letters: Dataset) -> None:
    everything = list(letters.samples())
    source_photo = everything[0].signer
    assert source_photo == "A0"  # the Roboflow `<letter><n>` prefix is the group
    expected = [s.id for s in everything if s.label in ("A", "B") and s.signer == source_photo]
    got = [s.id for s in query(letters, f'label in ("A","B") and signer == "{source_photo}"')]
    assert got == expected and len(got) == 3  # the three augmented copies of photo A0

    assert [s.id for s in query(letters, "width < 400")] == [s.id for s in everything if s.width < 400]
    assert [s.id for s in query(letters, "not (width < 400 or label == 'C')")] == [
        s.id for s in everything if not (s.width < 400 or s.label == "C")
    ]
    assert [s.id for s in query(letters, 'label not in ("A", "B")')] == [s.id for s in everything if s.label == "C"]
    assert [s.id for s in query(letters, 'source contains "C1"')] == [s.id for s in everything if "C1" in s.source]
    assert [s.id for s in query(letters, "group startswith 'B1'")] == [
        s.id for s in everything if s.signer.startswith("B1")
    ]
    assert len(query(letters, "id <= 10")) == 10 and len(query(letters, "id > 0", limit=7)) == 7


def test_not_split_includes_samples_without_a_split(letters: Dataset) -> None:
    ids = [s.id for s in letters.samples()]
    # nothing split yet: every sample has split NULL, and "not split == test" must still match them
    assert count(letters, 'not split == "test"') == len(ids)
    assert count(letters, "split == null") == len(ids)
    letters.assign_splits({i: ("test" if i % 4 == 0 else "train") for i in ids})
    tests = sum(1 for i in ids if i % 4 == 0)
    assert count(letters, 'split == "test"') == tests
    assert count(letters, 'not split == "test"') == len(ids) - tests
    assert count(letters, 'split != "test"') == len(ids) - tests


def test_relabel_fix_shows_in_query(letters: Dataset) -> None:
    first_a = query(letters, 'label == "A"')[0]
    letters.add_fix(first_a.id, "relabel", "B", reason="looks like B")
    assert first_a.id not in [s.id for s in query(letters, 'label == "A"')]
    assert first_a.id in [s.id for s in query(letters, 'label == "B" and original_label == "A"')]


@pytest.mark.parametrize(
    "expr, message",
    [
        ('lable == "A"', "unknown field 'lable' at column 1 (did you mean 'label'?); fields: id, label"),
        ('label == "A" and widht < 3', "unknown field 'widht' at column 18"),
        ("label ==", "expected a value (a quoted string, a number or null) at column 9, found end of query"),
        ('label = = "A"', "expected a value"),
        ('(label == "A"', "expected ')' at column 14"),
        ('label "A"', "expected a comparison"),
        ('label == "A', "unterminated string starting at column 10"),
        ('width < "wide"', "field 'width' is a number"),
        ('label == "A" label == "B"', "expected 'and', 'or' or the end of the query at column 14"),
        ("", "empty query"),
        ('label in "A"', "expected '(' after 'in'"),
        ("width contains '1'", "'contains' needs a text field"),
        ("label < null", "null is only allowed with == and !="),
    ],
)
def test_syntax_errors_are_one_clear_line(expr: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        compile_query(expr)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_injection_attempts_are_rejected_or_inert(letters: Dataset) -> None:
    before = letters.count()
    with pytest.raises(QuerySyntaxError, match="unexpected character ';' at column 14"):
        query(letters, 'label == "A" ; DROP TABLE samples')
    # a quote inside a string is just part of the literal, bound as a parameter
    sql, params = compile_query("label == \"A' OR 1=1 --\"")
    assert "OR 1=1" not in sql and params == ["A' OR 1=1 --"]
    assert query(letters, "label == \"A' OR 1=1 --\"") == []
    assert query(letters, "source == 'x\\' OR \\'1\\'=\\'1'") == []
    with pytest.raises(QuerySyntaxError):
        query(letters, "label == A")  # bare words are not values
    with pytest.raises(QuerySyntaxError):
        query(letters, "1 == 1")
    assert letters.count() == before
    assert letters.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == before


def test_cli_query_table_json_and_errors(letters: Dataset, capsys, tmp_path: Path) -> None:
    assert main(["data", "query", "letters-abc", "instances > 1"]) == 0
    out = capsys.readouterr().out
    assert "1 of" in out and "instances" in out.splitlines()[0]

    assert main(["data", "query", "letters-abc", 'label == "C"', "--json", "--limit", "3"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["total"] == count(letters, 'label == "C"') and len(payload["samples"]) == 3
    assert {s["label"] for s in payload["samples"]} == {"C"}

    sheet = tmp_path / "c.png"
    assert main(["data", "query", "letters-abc", 'label == "C"', "--sheet", str(sheet), "--sheet-max", "12"]) == 0
    assert "more not shown" in capsys.readouterr().out
    assert cv2.imread(str(sheet)) is not None

    assert main(["data", "query", "letters-abc", "lable == 'A'"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown field 'lable' at column 1") and err.count("\n") == 1


def test_sheet_for_pixel_rows_and_landmarks(datasets_root: Path, tmp_path: Path) -> None:
    """Sign-MNIST rows (28x28 grey) and the landmark-only set (skeletons) both draw."""
    records = []
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as f:
        next(f)
        for line_no, line in zip(range(2, 14), f):
            values = [int(v) for v in line.split(",")]
            letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[values[0]]
            records.append(SampleRecord(source="sign_mnist_test.csv.gz", row=line_no, label=letter, width=28,
                                        height=28, pixels=bytes(values[1:]), split="test"))
    letters = sorted({r.label for r in records})
    mnist = Dataset.create("mnist-bit", root=datasets_root / "sign-mnist", format="sign-mnist",
                           classes=letters, records=records)
    assert mnist.image(next(mnist.samples())).shape == (28, 28)
    info = contact_sheet(mnist, mnist.samples(), tmp_path / "mnist.png", limit=5)
    assert (info.shown, info.total) == (5, 12)
    assert cv2.imread(str(tmp_path / "mnist.png")) is not None

    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as npz:
        x, y = npz["x"][:6], npz["y"][:6]
    marks = [SampleRecord(source="landmarks.npz", row=k + 1, label=str(y[k]).upper(), landmarks=x[k])
             for k in range(6)]
    hands = Dataset.create("marks-bit", root=datasets_root / "asl-landmarks", format="landmarks",
                           classes=sorted({r.label for r in marks}), records=marks)
    assert not hands.has_images
    out = tmp_path / "marks.png"
    info = contact_sheet(hands, hands.samples(), out)
    sheet = cv2.imread(str(out))
    assert info.shown == 6 and sheet is not None
    # skeleton lines are drawn in blue-ish ink on white tiles
    blue = (sheet[:, :, 0] > 150) & (sheet[:, :, 2] < 120)
    assert blue.sum() > 100
