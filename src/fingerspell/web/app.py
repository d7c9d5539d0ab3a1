"""The FastAPI app behind `fingerspell serve`.

    from fingerspell.web.app import ServerConfig, create_app
    app = create_app(ServerConfig())            # the bundled default model, no dataset roots

Routes (every page and file is served from this host; nothing is fetched from elsewhere):
  /                   the live page (webcam -> MediaPipe Hands + the letter model, in the browser);
                      /#practice (or /practice) its practice mode
  /static/...         the app's own HTML/JS/CSS and the vendored npm files (static/vendor/)
  /bundle/<file>      the loaded bundle's files that the browser needs (BUNDLE_FILES)
  /api/health         {"ok": true, "bundle": name, "labels": [...]}
  /docs               the HTTP API's documentation (Swagger UI, vendored; schema at /openapi.json)
Further API routers (inspect, datasets) are included below.
"""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from fingerspell.errors import FingerspellError
from fingerspell.export.bundle import Bundle
from fingerspell.home import default_bundle_dir
from fingerspell.web.assets import STATIC_DIR

# onnxruntime-web loads its wasm glue by dynamic import(): .mjs must be served as JavaScript,
# and Python's mimetypes does not map it on every machine.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")

# The bundle files a browser may fetch (nothing else in the bundle folder is served).
BUNDLE_FILES = ("bundle.json", "model.onnx", "browser.onnx")

DEFAULT_MAX_UPLOAD_BYTES = 50 * 2**20


@dataclass
class ServerConfig:
    """What `fingerspell serve` was started with.

    bundle: the model bundle folder (None = the bundled default).
    roots: folders whose images and videos the inspect page may read (nothing else on disk).
    max_upload_bytes: larger uploads are refused with 413.
    """

    bundle: Path | None = None
    roots: list[Path] = field(default_factory=list)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    def bundle_dir(self) -> Path:
        return Path(self.bundle) if self.bundle is not None else default_bundle_dir()


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """Build the app. Raises BundleError for an invalid bundle, FingerspellError for a bad root."""
    config = config or ServerConfig()
    bundle = Bundle.load(config.bundle_dir())
    roots = []
    for root in config.roots:
        resolved = Path(root).expanduser().resolve()
        if not resolved.is_dir():
            raise FingerspellError(f"--root {root}: not a folder")
        roots.append(resolved)
    config.roots = roots

    # /docs is served below from the vendored swagger-ui-dist (FastAPI's own loads it from a CDN);
    # ReDoc would need one too, so it is off.
    app = FastAPI(title="fingerspell", version="1", docs_url=None, redoc_url=None,
                  description="Recognise the ASL alphabet: live page, model inspection, dataset browser.")
    app.state.config = config
    app.state.bundle = bundle
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def live_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/live", include_in_schema=False)
    def live_redirect() -> RedirectResponse:
        return RedirectResponse("/")

    @app.get("/practice", include_in_schema=False)
    def practice_redirect() -> RedirectResponse:
        return RedirectResponse("/#practice")

    @app.get("/bundle/{name}", include_in_schema=False)
    def bundle_file(name: str) -> FileResponse:
        if name not in BUNDLE_FILES:
            raise HTTPException(404, f"{name}: not a file the browser needs")
        path = bundle.path / name
        if not path.is_file():
            raise HTTPException(404, f"{name}: not in this bundle")
        return FileResponse(path)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        vendor = "/static/vendor/swagger-ui/"
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="fingerspell API",
                                   swagger_js_url=vendor + "swagger-ui-bundle.js",
                                   swagger_css_url=vendor + "swagger-ui.css",
                                   swagger_favicon_url=vendor + "favicon-32x32.png")

    @app.get("/api/health")
    def health() -> dict:
        """Whether the server is up, and which bundle it serves."""
        return {"ok": True, "bundle": bundle.name, "labels": list(bundle.labels)}

    # --- further routers (inspect page, dataset pages) are included here ---
    from fingerspell.web.inspect_app import add_inspect_and_datasets

    add_inspect_and_datasets(app)

    return app
