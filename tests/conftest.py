"""Shared test fixtures: a temporary FINGERSPELL_HOME for every test, the shared datasets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(autouse=True)
def fs_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty FINGERSPELL_HOME."""
    home = tmp_path / "fs-home"
    monkeypatch.setenv("FINGERSPELL_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def datasets_root() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.fail(f"shared datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS
