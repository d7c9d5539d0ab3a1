"""The app server: health, the bundle files a browser may fetch, and nothing else."""
from __future__ import annotations

import json
import re

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


def test_live_page_links_the_other_pages_and_loads_only_served_files(client):
    page = client.get("/").text
    for link in ('href="/inspect"', 'href="/datasets"', 'href="#practice"'):
        assert link in page
    # Every script and stylesheet the page names is served by this app.
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert client.get(path).status_code == 200, path


def test_wasm_glue_is_served_as_javascript(client):
    from fingerspell.web.assets import missing_vendor_files

    if missing_vendor_files():
        pytest.fail("front-end files missing: run `make setup`")
    response = client.get("/static/vendor/onnxruntime-web/ort-wasm-simd-threaded.mjs")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert client.get("/bundle/browser.onnx").content == (default_bundle_dir() / "browser.onnx").read_bytes()


def test_api_docs_load_nothing_from_another_host(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "://" not in page.text  # every asset is a path on this server, no CDN address
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static/vendor/swagger-ui/{asset}" in page.text
        assert client.get(f"/static/vendor/swagger-ui/{asset}").status_code == 200
    assert client.get("/redoc").status_code == 404
