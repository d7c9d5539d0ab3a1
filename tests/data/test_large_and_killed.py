"""Issue 15, cases 2 and 5: a huge image is refused from its header (one line, the run goes
on and keeps its rows), and what a killed import or export leaves behind is cleaned up.

The huge image is a real, valid 20000x20000 PNG (1-bit grey, so it is ~60 KB on disk; decoded
it would be 1.2 GB of RGB). Nothing here decodes it: that is the point.
"""
from __future__ import annotations

import csv
import gzip
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from fingerspell import home
from fingerspell.cli import main
from fingerspell.data import Dataset, import_dataset
from fingerspell.data.export import export_dataset
from fingerspell.data.images import MAX_IMAGE_PIXELS, read_image
from fingerspell.errors import ImageTooLargeError


def huge_png(path: Path, side: int = 20000) -> Path:
    """A valid `side` x `side` black PNG, written row by row without the pixels in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + 1 bit a pixel
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def massey_photos(datasets_root: Path, letter: str, n: int) -> list[Path]:
    return sorted((datasets_root / "massey" / "asl_dataset" / letter).iterdir())[:n]


def test_huge_png_is_refused_from_its_header(tmp_path):
    png = huge_png(tmp_path / "huge.png")
    assert png.stat().st_size < 200_000
    with pytest.raises(ImageTooLargeError, match=r"huge.png: image is 20000x20000 pixels \(400 megapixels\)"):
        read_image(png)
    assert 20000 * 20000 > MAX_IMAGE_PIXELS


def test_predict_huge_png_alone_and_in_a_folder(tmp_path, datasets_root, capsys):
    (tmp_path / "photos" / "a").mkdir(parents=True)
    png = huge_png(tmp_path / "photos" / "a" / "huge.png")
    capsys.readouterr()
    assert main(["predict", str(png)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "huge.png: image is 20000x20000 pixels" in lines[0]

    for photo in massey_photos(datasets_root, "a", 2):
        shutil.copy(photo, tmp_path / "photos" / "a")
    report = tmp_path / "report.csv"
    assert main(["predict", str(tmp_path / "photos"), "--report", str(report), "--fast"]) == 0
    out = capsys.readouterr().out
    assert "huge.png: error:" in out and "3 images" in out and "1 unreadable" in out
    rows = list(csv.DictReader(report.open()))
    assert len(rows) == 3
    by_name = {Path(r["path"]).name: r for r in rows}
    assert "20000x20000" in by_name["huge.png"]["error"]
    assert sum(r["letter"] == "A" for r in rows) == 2


def test_data_landmarks_records_the_huge_image_and_keeps_the_rest(tmp_path, datasets_root, capsys):
    root = tmp_path / "classes"
    for letter in ("a", "b"):
        (root / letter).mkdir(parents=True)
        for photo in massey_photos(datasets_root, letter, 2):
            shutil.copy(photo, root / letter)
    huge_png(root / "a" / "huge.png")
    with import_dataset(root, name="huge") as ds:
        assert ds.count() == 5
    capsys.readouterr()
    assert main(["data", "landmarks", "huge", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "hands found: 4/5" in captured.out
    assert "huge.png: image is 20000x20000 pixels" in captured.err
    with Dataset.load("huge") as ds:
        rows = ds.db.execute("SELECT COUNT(*), SUM(found) FROM landmarks").fetchone()
    assert tuple(rows) == (5, 4)


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FINGERSPELL_HOME": str(home.home())}


def test_killed_folder_run_keeps_its_finished_rows(tmp_path, datasets_root):
    folder = tmp_path / "photos"
    folder.mkdir()
    for letter in "abcdefgh":
        for photo in massey_photos(datasets_root, letter, 1):
            shutil.copy(photo, folder)
    report = tmp_path / "report.csv"
    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "predict", str(folder), "--report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(tmp_path))
    try:
        done = [proc.stdout.readline() for _ in range(2)]
        assert all(": " in line for line in done), done
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = list(csv.DictReader(report.open()))
    assert 2 <= len(rows) < 8
    assert {Path(r["path"]).name for r in rows} >= {line.split(":")[0] for line in done}


@pytest.mark.slow
def test_kill_9_leftovers_are_removed_by_the_next_run(tmp_path, datasets_root):
    datasets = home.datasets_dir()
    source = datasets_root / "sign-mnist" / "sign_mnist_train.csv.gz"
    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "data", "import", str(source), "--name", "big"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path))
    try:
        temp = _wait_for(lambda: [p for p in datasets.glob(f".big.sqlite.{proc.pid}.tmp") if p.stat().st_size > 0],
                         120, "the import's temporary index")[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert temp.exists()  # kill -9: nothing could clean up

    small = tmp_path / "small"
    small.mkdir()
    with gzip.open(datasets_root / "sign-mnist" / "sign_mnist_test.csv.gz", "rt") as handle:
        (small / "sign_mnist_test.csv").write_text("".join(handle.readline() for _ in range(3001)))
    import_dataset(small, name="small").close()
    assert not list(datasets.glob(".big.sqlite.*")), "the next import removes a dead import's leftovers"

    out = tmp_path / "exports" / "out"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "data", "export", "small", str(out),
                             "--format", "folders"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path))
    try:
        temp = _wait_for(lambda: [p for p in out.parent.glob(f".out.export-{proc.pid}.tmp") if any(p.rglob("*.png"))],
                         120, "the export's temporary folder")[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert temp.exists() and not out.exists()
    with Dataset.load("small") as ds:
        export_dataset(ds, "folders", out.parent / "again", split=None)
    assert not temp.exists(), "the next export removes a dead export's leftovers"
    assert len(list((out.parent / "again").rglob("*.png"))) == 3000


@pytest.mark.slow
def test_killed_data_landmarks_keeps_finished_rows(tmp_path, datasets_root):
    root = tmp_path / "classes"
    for letter in "abcdefghik":
        (root / letter).mkdir(parents=True)
        for photo in massey_photos(datasets_root, letter, 2):
            shutil.copy(photo, root / letter)
    with import_dataset(root, name="many") as ds:
        index, total = ds.path, ds.count()

    def rows() -> int:
        import sqlite3

        try:
            db = sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=0.1)
            try:
                return db.execute("SELECT COUNT(*) FROM landmarks").fetchone()[0]
            finally:
                db.close()
        except sqlite3.OperationalError:  # locked while the run commits: ask again
            return 0

    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "data", "landmarks", "many", "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path))
    try:
        _wait_for(rows, 240, "the first committed landmarks")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    kept = rows()
    assert 0 < kept < total, (kept, total)  # killed part way, the finished rows are there
    from fingerspell.hands.extract import load_landmarks

    with Dataset.load("many") as ds:
        landmarks = load_landmarks(ds)  # up to date for their samples: the next run skips them
    assert len(landmarks) == kept and sum(row.found for row in landmarks.values()) >= kept - 1
