"""Keep MediaPipe's native start-up chatter off the user's terminal.

MediaPipe's C++ side logs through glog and TensorFlow Lite's own logger straight to file
descriptor 2 ("W0000 ... Feedback manager requires a model with a single signature",
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."), on every run, after the last line
fingerspell prints; users read them as errors. The environment variables quiet glog where it
reads them; TFLite's logger reads none, so the graph start-up also runs with fd 2 pointed at
a temporary file, which is replayed to stderr only when the start-up fails (a real error is
never hidden).
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_LOCK = threading.RLock()


def quiet_environment() -> None:
    """Set the log-level variables MediaPipe / TensorFlow read, unless the user set them."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # glog: errors and fatal only
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ logging
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def native_logs_silenced() -> Iterator[None]:
    """Run the block with file descriptor 2 captured; replay what it caught if the block raises.

    Set FINGERSPELL_NATIVE_LOGS=1 to see MediaPipe's logs (debugging)."""
    quiet_environment()
    if os.environ.get("FINGERSPELL_NATIVE_LOGS") == "1":
        yield
        return
    with _LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no fd 2 (a GUI launcher): nothing to silence
            yield
            return
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                yield
            except BaseException:
                os.dup2(saved, 2)
                caught.seek(0)
                text = caught.read().decode("utf-8", "replace")
                if text:
                    sys.stderr.write(text)
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)


def quiet_solution(create: Callable[[], T]) -> T:
    """`create()` (a MediaPipe solution such as `Hands(...)`) with its start-up logs silenced.

    MediaPipe opens the graph's calculators on its own threads after the constructor returns,
    and they log then; by the end of the first `process()` every calculator is open. So the
    constructor and that first call run silenced, and later calls run as they are."""
    with native_logs_silenced():
        solution = create()
    original = solution.process  # type: ignore[attr-defined]

    def first_process(*args: Any, **kwargs: Any) -> Any:
        with native_logs_silenced():
            result = original(*args, **kwargs)
        solution.process = original  # type: ignore[attr-defined]
        return result

    solution.process = first_process  # type: ignore[attr-defined]
    return solution


def quiet_hands(**options: Any) -> Any:
    """`mediapipe.solutions.hands.Hands(**options)`, created and started without its logs.

    MediaPipe is imported here, on first use, so importing fingerspell.hands stays light."""
    import mediapipe.python.solutions.hands as mp_hands

    return quiet_solution(lambda: mp_hands.Hands(**options))
