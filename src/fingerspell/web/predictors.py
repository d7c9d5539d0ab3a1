"""Predictors the server shares between requests, and the models a page may choose.

A `Predictor` (MediaPipe graph + onnxruntime session) is not safe to call from two threads at
once, and building one takes about a second, so each model gets a small pool of them; a
request borrows one for the length of one image (a folder job borrows per image, so other
requests interleave), a video job for the whole video (tracking state is per stream).

Models are chosen by name, never by path: "served" (the bundle the server was started with),
"default" (the one shipped in the package) and each bundle folder in FINGERSPELL_HOME/models.
"""
from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fingerspell import home
from fingerspell.errors import FingerspellError
from fingerspell.export.bundle import Bundle
from fingerspell.home import default_bundle_dir
from fingerspell.infer.predictor import Predictor

SERVED = "served"
DEFAULT = "default"
# Two cores on the project's machines: two predictors keep both busy; more only queue.
DEFAULT_POOL_SIZE = 2
# Pools kept for class-filtered or other models; the least recently used one is closed.
MAX_POOLS = 6


class UnknownModel(FingerspellError):
    """A model name that is not served, default or a bundle in FINGERSPELL_HOME/models."""


def available_models(served: Bundle) -> list[dict]:
    """The models a page may pick: name, bundle name, labels count, input kind and still-image
    threshold (the letter's smallest probability when no `conf` is given: bundle.json "still")."""
    out = [_entry(SERVED, served)]
    if served.path.resolve() != default_bundle_dir().resolve():
        default = Bundle.load(default_bundle_dir())
        out.append(_entry(DEFAULT, default))
    for folder in sorted(home.models_dir().iterdir()):
        if folder.is_dir() and (folder / "bundle.json").is_file():
            try:
                bundle = Bundle.load(folder)
            except FingerspellError:
                continue  # a broken bundle is not offered; `fingerspell predict --model` says why
            out.append(_entry(folder.name, bundle))
    return out


def _entry(name: str, bundle: Bundle) -> dict:
    return {"name": name, "bundle": bundle.name, "path": str(bundle.path), "labels": len(bundle.labels),
            "input": bundle.input.kind, "threshold": bundle.still.threshold}


def model_path(served: Bundle, name: str) -> Path:
    """The bundle folder a model name stands for. Raises UnknownModel."""
    if name in ("", SERVED):
        return served.path
    if name == DEFAULT:
        return default_bundle_dir()
    if "/" in name or "\\" in name or name.startswith("."):
        raise UnknownModel(f"unknown model {name!r}")
    folder = home.models_dir() / name
    if not (folder / "bundle.json").is_file():
        known = ", ".join(m["name"] for m in available_models(served))
        raise UnknownModel(f"unknown model {name!r}; available: {known}")
    return folder


class PredictorPool:
    """`size` predictors of one bundle and class filter, made on first use."""

    def __init__(self, bundle: Path, classes: tuple[str, ...] | None, size: int):
        self.bundle, self.classes, self.size = bundle, classes, size
        self._idle: queue.Queue[Predictor] = queue.Queue()
        self._made = 0
        self._lock = threading.Lock()
        self._limiter: Any = None

    def limiter(self) -> Any:
        """An anyio CapacityLimiter of the pool's size, for requests (call from the event loop).

        A request waiting its turn for a predictor must not sit in one of the server's worker
        threads (40 by default): under load they would all be waiting here, and queries and
        fixes, which need a thread for a millisecond, would queue behind them."""
        if self._limiter is None:
            import anyio

            self._limiter = anyio.CapacityLimiter(self.size)
        return self._limiter

    def labels(self) -> list[str]:
        return list(Bundle.load(self.bundle).labels)

    @contextmanager
    def borrow(self, conf: float | None) -> Iterator[Predictor]:
        """A predictor for this thread alone, with its letter threshold set to `conf` (None =
        the bundle's default)."""
        predictor = self._take()
        try:
            predictor.conf = conf  # read per frame; nobody else holds this predictor now
            yield predictor
        finally:
            self._idle.put(predictor)

    def _take(self) -> Predictor:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._made < self.size
            if make:
                self._made += 1
        if make:
            try:
                return Predictor(self.bundle, classes=list(self.classes) if self.classes else None)
            except BaseException:
                with self._lock:
                    self._made -= 1
                raise
        return self._idle.get()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class Predictors:
    """Pools by (model name, class filter). Raises UnknownModel / FingerspellError (bad class)."""

    def __init__(self, served: Bundle, pool_size: int = DEFAULT_POOL_SIZE):
        self.served = served
        self.pool_size = pool_size
        self._pools: OrderedDict[tuple[str, tuple[str, ...] | None], PredictorPool] = OrderedDict()
        self._lock = threading.Lock()

    def pool(self, model: str = SERVED, classes: Sequence[str] | None = None) -> PredictorPool:
        path = model_path(self.served, model or SERVED)
        chosen = tuple(classes) if classes else None
        if chosen:
            labels = {name.lower() for name in Bundle.load(path).labels}
            bad = [c for c in chosen if c.lower() not in labels]
            if bad:
                raise FingerspellError(f"class {bad[0]!r} is not one of the model's labels")
        key = (str(path), chosen)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                size = self.pool_size if model in ("", SERVED) and chosen is None else 1
                pool = self._pools[key] = PredictorPool(path, chosen, size)
                while len(self._pools) > MAX_POOLS:
                    _, old = self._pools.popitem(last=False)
                    old.close()  # busy predictors go back to a closed pool and are collected
            self._pools.move_to_end(key)
            return pool

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
