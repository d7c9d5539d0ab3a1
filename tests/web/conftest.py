"""Browser-test fixtures: the app served on a free port, and Debian's Chromium driven by Playwright.

The browser is always /usr/bin/chromium (CI installs Debian's package in .ci/run); Playwright
never downloads one. Tests that need it are skipped with the reason when it is missing.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FINGERSPELL_CHROMIUM", "/usr/bin/chromium")
# Chromium flags measured on the project's 2-core machines (../shared/STACK.md): software WebGL
# for MediaPipe, page compositing off the GPU path, and no background traffic of its own.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    """`fingerspell serve`'s app in a background thread (uvicorn), stopped at the end."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "RunningServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def app_server() -> Iterator[RunningServer]:
    """The app with the bundled default model on 127.0.0.1:<free port>."""
    from fingerspell.web.app import ServerConfig, create_app
    from fingerspell.web.assets import missing_vendor_files

    missing = missing_vendor_files()
    if missing:
        pytest.fail(f"front-end files missing ({missing[0]}, ...): run `make setup`")
    with RunningServer(create_app(ServerConfig())) as server:
        yield server


def needs_chromium() -> None:
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium; .ci/run does it)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def playwright_driver():
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch_chromium(driver, camera: str = "fake", clip: Path | None = None, extra_args: list[str] | None = None):
    """Headless Debian Chromium.

    camera: "fake" (Chromium's fake webcam; `clip` = a .y4m file it plays in a loop, else its test
        pattern; permission granted), "denied" (a fake webcam, but permission prompts refused),
        or "none" (no camera device at all).
    """
    args = list(CHROMIUM_ARGS) + list(extra_args or [])
    if camera in ("fake", "denied"):
        args.append("--use-fake-device-for-media-stream")
    if camera == "fake":
        args.append("--use-fake-ui-for-media-stream")
        if clip is not None:
            args.append(f"--use-file-for-fake-video-capture={clip}")
    elif camera == "denied":
        args.append("--deny-permission-prompts")
    return driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


class RequestLog:
    """Every request a page (and its workers) makes, to prove nothing leaves the serving host."""

    def __init__(self, context, origin: str) -> None:
        self.origin = origin.rstrip("/")
        self.urls: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))

    def external(self) -> list[str]:
        allowed = (self.origin + "/", "data:", f"blob:{self.origin}/")
        return [url for url in self.urls if not url.startswith(allowed)]
