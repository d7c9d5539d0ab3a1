"""The app server: health, the bundle files a browser may fetch, and nothing else."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from fingerspell.errors import FingerspellError
from fingerspell.home import default_bundle_dir
from fingerspell.web.app import ServerConfig, create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(ServerConfig()))


def test_health_names_the_bundle_and_its_letters(client):
    data = client.get("/api/health").json()
    manifest = json.loads((default_bundle_dir() / "bundle.json").read_text())
    assert data["ok"] is True
    assert data["labels"] == manifest["labels"]


def test_bundle_files_are_served_byte_for_byte(client):
    response = client.get("/bundle/model.onnx")
    assert response.status_code == 200
    assert response.content == (default_bundle_dir() / "model.onnx").read_bytes()


@pytest.mark.parametrize("name", ["../bundle.json", "..%2F..%2Fpyproject.toml", "secret.txt", "%2Fetc%2Fpasswd"])
def test_only_listed_bundle_files_are_served(client, name):
    assert client.get(f"/bundle/{name}").status_code == 404


def test_static_files_cannot_escape_their_folder(client):
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def test_a_root_that_is_not_a_folder_is_refused(tmp_path):
    with pytest.raises(FingerspellError, match="not a folder"):
        create_app(ServerConfig(roots=[tmp_path / "missing"]))
