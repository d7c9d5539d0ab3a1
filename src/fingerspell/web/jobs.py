"""Background jobs (a folder or a video being analysed) that a page polls for progress.

A job runs in its own thread and appends results as they come; `GET /api/jobs/{id}?since=N`
returns the results after the first N, so a page shows each one as soon as it exists without
re-reading the rest. Finished jobs are kept for a while (the page may reload), then dropped.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fingerspell.errors import FingerspellError

KEEP_FINISHED_S = 3600
MAX_JOBS = 50


class JobCancelled(Exception):
    pass


@dataclass
class Job:
    """One analysis in progress: `total` items (None = not known yet), `done` so far."""

    id: str
    kind: str
    title: str
    total: int | None = None
    done: int = 0
    state: str = "running"  # running / finished / failed / cancelled
    error: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, result: dict[str, Any] | None = None, advance: int = 1) -> None:
        """Record progress (and a result). Raises JobCancelled when the page asked to stop."""
        with self.lock:
            if result is not None:
                self.results.append(result)
            self.done += advance
        if self.cancel_requested:
            raise JobCancelled()

    def view(self, since: int = 0) -> dict[str, Any]:
        with self.lock:
            since = max(0, min(since, len(self.results)))
            return {
                "id": self.id, "kind": self.kind, "title": self.title, "state": self.state, "error": self.error,
                "total": self.total, "done": self.done, "seconds": round((self.finished or time.time()) - self.started, 2),
                "since": since, "results": self.results[since:], "count": len(self.results),
                "summary": self.summary if self.state != "running" else {},
            }


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, title: str, work: Callable[[Job], dict[str, Any] | None],
              total: int | None = None, cleanup: Callable[[], None] | None = None) -> Job:
        """Run `work(job)` in a thread; its return value becomes the job's summary."""
        job = Job(id=uuid.uuid4().hex[:12], kind=kind, title=title, total=total)
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job

        def run() -> None:
            try:
                summary = work(job) or {}
                state, error = "finished", None
            except JobCancelled:
                summary, state, error = {}, "cancelled", None
            except FingerspellError as exc:
                summary, state, error = {}, "failed", str(exc)
            except Exception as exc:  # a job thread must always end in a state the page can show
                summary, state, error = {}, "failed", f"{type(exc).__name__}: {exc}"
            finally:
                if cleanup is not None:
                    cleanup()
            with job.lock:
                job.summary, job.state, job.error, job.finished = summary, state, error, time.time()

        threading.Thread(target=run, name=f"job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _forget_old(self) -> None:
        now = time.time()
        for key in [k for k, j in self._jobs.items() if j.finished and now - j.finished > KEEP_FINISHED_S]:
            del self._jobs[key]
        finished = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.finished or 0)
        while len(self._jobs) >= MAX_JOBS and finished:
            del self._jobs[finished.pop(0).id]
