"""Fixtures for the inspect and dataset pages: real Massey photos the model reads right, a
small dataset imported from real photos, a video assembled from them, a `--root` folder with
a symlink pointing out of it, and the real app served by uvicorn on loopback."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from fingerspell.data.images import read_image
from fingerspell.home import default_bundle_dir

from ...infer.clips import FPS, Segment, write_clip

# Letters whose Massey photos the tests use: a few with distinct hand shapes, and M / N
# (the pair the tutorial finds mislabelled).
LETTERS = ("A", "B", "L", "M", "N", "V")
PER_LETTER = 3


@pytest.fixture(scope="module")
def inspect_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fs-home")


@pytest.fixture(scope="module")
def fs_home_module(inspect_home) -> Path:
    """FINGERSPELL_HOME set for module-scoped fixtures (the per-test one is not active yet)."""
    previous = os.environ.get("FINGERSPELL_HOME")
    os.environ["FINGERSPELL_HOME"] = str(inspect_home)
    yield inspect_home
    if previous is None:
        os.environ.pop("FINGERSPELL_HOME", None)
    else:
        os.environ["FINGERSPELL_HOME"] = previous


@pytest.fixture(autouse=True)
def fs_home(inspect_home, monkeypatch) -> Path:
    """One FINGERSPELL_HOME per test module (the server and its datasets live a whole module)."""
    monkeypatch.setenv("FINGERSPELL_HOME", str(inspect_home))
    return inspect_home


@pytest.fixture(scope="session")
def massey_dir(datasets_root) -> Path:
    return datasets_root / "massey" / "asl_dataset"


@pytest.fixture(scope="session")
def photos(massey_dir) -> dict[str, list[Path]]:
    """Per letter, the first Massey photos (path order) that the default model reads right."""
    from fingerspell.infer.predictor import Predictor

    chosen: dict[str, list[Path]] = {}
    with Predictor(default_bundle_dir()) as predictor:
        for letter in LETTERS:
            for path in sorted((massey_dir / letter.lower()).iterdir())[:30]:
                p = next(iter(predictor.predict(str(path))))
                if p.letter == letter and p.confidence >= 0.6:
                    chosen.setdefault(letter, []).append(path)
                    if len(chosen[letter]) == PER_LETTER:
                        break
            if len(chosen.get(letter, [])) < PER_LETTER:
                pytest.fail(f"the model reads fewer than {PER_LETTER} of the first 30 Massey photos of {letter} right")
    return chosen


@pytest.fixture(scope="session")
def outside(tmp_path_factory) -> Path:
    """A folder beside the root, with a file a symlink in the root points at."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.jpg").write_bytes(b"not for the browser")
    (folder / "private").mkdir()
    return folder


@pytest.fixture(scope="session")
def photo_root(tmp_path_factory, photos, outside) -> Path:
    """The `--root` folder: class folders of real photos, a video, and symlinks out of it."""
    root = tmp_path_factory.mktemp("root")
    for letter, paths in photos.items():
        (root / "letters" / letter).mkdir(parents=True)
        for path in paths:
            shutil.copy(path, root / "letters" / letter / path.name)
    (root / "clips").mkdir()
    write_clip(root / "clips" / "lv.avi", [Segment("L", read_image(photos["L"][0]), FPS),
                                           Segment("V", read_image(photos["V"][0]), FPS)])
    (root / "notes.txt").write_text("not an image")
    os.symlink(outside / "secret.jpg", root / "escape.jpg")
    os.symlink(outside / "private", root / "escape-dir")
    os.symlink(root / "letters" / "A", root / "inside-link")  # a symlink within the root is fine
    return root


@pytest.fixture(scope="module")
def mini_dataset(photos, tmp_path_factory, fs_home_module) -> str:
    """A small class-folder dataset of real Massey photos, imported into this module's home."""
    from fingerspell.data.importer import import_dataset

    source = tmp_path_factory.mktemp("mini")
    for letter, paths in photos.items():
        (source / letter.lower()).mkdir()
        for path in paths:
            shutil.copy(path, source / letter.lower() / path.name)
    import_dataset(source, format="folders", name="mini").close()
    return "mini"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app under uvicorn in a thread, on 127.0.0.1."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the app did not start within 30 s")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def second_model(inspect_home) -> str:
    """A second bundle in FINGERSPELL_HOME/models to compare with (a copy of the default)."""
    shutil.copytree(default_bundle_dir(), inspect_home / "models" / "second", dirs_exist_ok=True)
    return "second"


@pytest.fixture(scope="module")
def live_server(photo_root, mini_dataset, second_model):
    from fingerspell.web.app import ServerConfig, create_app

    with LiveServer(create_app(ServerConfig(roots=[photo_root]))) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (never a browser Playwright downloads)."""
    from playwright import sync_api as playwright_api
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium is not installed (apt-get install chromium): the browser tests need it")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                          "--disable-background-networking", "--disable-component-update",
                                          "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


SCREENSHOTS = Path(os.environ.get("FINGERSPELL_SCREENSHOTS", Path(__file__).resolve().parents[3] / "bench" / "results" / "screenshots"))


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
