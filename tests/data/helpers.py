"""Checks the bad-input tests share: the datasets folder byte for byte, and a CLI run that fails
with exactly one `error:` line."""
from __future__ import annotations

import hashlib

from fingerspell import home
from fingerspell.cli import main


def datasets_snapshot() -> dict[str, str]:
    """Every file in FINGERSPELL_HOME/datasets (temporaries included) and its sha256."""
    folder = home.datasets_dir()
    if not folder.exists():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def one_error(capsys, argv: list[str]) -> str:
    """Run the CLI; it must fail with exactly one `error:` line and print nothing else."""
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.out == ""
    return lines[0]
