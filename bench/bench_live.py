"""Benchmark: the live page's frame rate in headless Chromium, next to Python's tracking latency.

The same 640x480, 30 fps clip of real Massey photos (letters held, the hand out of view between
words; tests/web/clips.py) goes through
1. Python: `Predictor().predict(clip)` (MediaPipe tracking, the bundle's tracking model, the
   letter model in onnxruntime, smoothing + spelling); per-frame ms per stage;
2. the browser: `fingerspell serve`'s app in Debian's headless Chromium with the clip as its
   fake webcam; after a warm-up, the frames the page processed in `--seconds` give its frames
   per second, and its own per-stage timings (MediaPipe hands.send, browser.onnx, spelling).
Goal: >= 25 fps in the browser. The machine is shared: the load average is recorded with the
figures, and CPU-bound numbers on a loaded machine are worse than on a quiet one.

    .venv/bin/python bench/bench_live.py                 # writes bench/results/live.json
    .venv/bin/python bench/bench_live.py --seconds 20 --complexity 1
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
GOAL_FPS = 25.0
WORDS = [[("B", 1), ("Y", 1), ("E", 1)], [("W", 1), ("A", 2), ("G", 1)]]


def stats(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {}
    return {"mean": round(float(arr.mean()), 3), "p50": round(float(np.percentile(arr, 50)), 3),
            "p95": round(float(np.percentile(arr, 95)), 3)}


def make_clip(path: Path) -> int:
    from tests.web.clips import Hold, build_clip, massey_photo

    holds = [Hold(None, 1.0)]
    for word in WORDS:
        holds += [Hold(massey_photo(DATASETS, letter, signer), 1.0, letter) for letter, signer in word]
        holds.append(Hold(None, 1.0))
    return len(build_clip(path, holds))


def bench_python(clip: Path, warmup: int = 10) -> dict:
    from fingerspell.infer import Predictor

    with Predictor() as predictor:  # = `fingerspell predict clip.y4m --json`
        cpu = time.process_time()
        predictions = list(predictor.predict(str(clip)))
        cpu_ms = 1000 * (time.process_time() - cpu) / len(predictions)
        complexity = predictor.tracking_model_complexity
    measured = predictions[warmup:]
    pipeline = [sum(p.timings[s] for s in ("hands", "features", "model", "smoothing")) for p in measured]
    return {
        "frames": len(predictions), "hand_model_complexity": complexity,
        "ms": {stage: stats([p.timings[stage] for p in measured]) for stage in ("hands", "features", "model", "smoothing")},
        "per_frame_ms": stats(pipeline), "cpu_ms_per_frame": round(cpu_ms, 2),
        "fps_equivalent": round(1000 / float(np.median(pipeline)), 1),
        "top1": [p.top5[0][0] if p.top5 else None for p in predictions],
    }


def _descendants_cpu_ms() -> float:
    """CPU time (user + system) of every process started below this one (Chromium, its driver)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    mine, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return sum(times.get(pid, 0.0) for pid in mine if pid != os.getpid())


def bench_browser(clip: Path, seconds: float, warmup_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    from fingerspell.web.app import ServerConfig, create_app
    from tests.web.conftest import CHROMIUM, RunningServer, launch_chromium

    with RunningServer(create_app(ServerConfig())) as server, sync_playwright() as driver:
        browser = launch_chromium(driver, camera="fake", clip=clip)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            start = time.perf_counter()
            page.goto(server.url + "?frametag=1")  # frame numbers, to line frames up with Python's
            page.wait_for_function("window.fingerspell && (window.fingerspell.ready || window.fingerspell.error)",
                                   timeout=120000)
            ready_s = time.perf_counter() - start
            error = page.evaluate("window.fingerspell.error")
            if error:
                raise RuntimeError(f"the page stopped: {error}")
            time.sleep(warmup_s)
            page.evaluate("window.fingerspell.reset()")
            cpu_before = _descendants_cpu_ms()
            time.sleep(seconds)
            frames = page.evaluate("window.fingerspell.frames()")
            cpu_ms = _descendants_cpu_ms() - cpu_before
            version = browser.version
        finally:
            browser.close()
    times = [f["t"] for f in frames]
    elapsed = times[-1] - times[0] if len(times) > 1 else float("nan")
    intervals = np.diff(times) * 1000 if len(times) > 1 else []
    hand = [f for f in frames if f["hand"]]
    return {
        "chromium": f"{CHROMIUM} {version}", "seconds": round(elapsed, 2), "frames": len(frames),
        "fps": round((len(frames) - 1) / elapsed, 1) if len(frames) > 1 else 0.0,
        "frame_interval_ms": stats(list(intervals)),
        "ms": {stage: stats([f["ms"][stage] for f in frames]) for stage in ("hands", "model", "spelling")},
        "ms_with_hand": {stage: stats([f["ms"][stage] for f in hand]) for stage in ("hands", "model")},
        "frames_with_hand": len(hand), "ready_after_s": round(ready_s, 1),
        # CPU time of all Chromium processes per processed frame: hardly changes when other jobs
        # share the cores, unlike the frame rate.
        "cpu_ms_per_frame": round(cpu_ms / max(1, len(frames)), 1),
        "records": [(f["tag"], f["top1"]) for f in frames],
    }


def agreement(records: list, python_top1: list) -> dict:
    """Share of the page's frames with a hand whose top-1 letter is Python's for the same frame."""
    pairs = [(top1, python_top1[tag]) for tag, top1 in records
             if top1 is not None and tag is not None and 0 <= tag < len(python_top1) and python_top1[tag] is not None]
    same = sum(a == b for a, b in pairs)
    return {"frames": len(pairs), "same_top1": same, "rate": round(same / len(pairs), 4) if pairs else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds in the browser (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds the page runs before measuring (3)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "live.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fs-bench-live-") as tmp:
        clip = Path(tmp) / "clip.y4m"
        frames = make_clip(clip)
        load_before = os.getloadavg()[0]
        python = bench_python(clip)
        browser = bench_browser(clip, args.seconds, args.warmup)
        browser["agreement_with_python"] = agreement(browser.pop("records"), python.pop("top1"))
        load_after = os.getloadavg()[0]
    result = {
        "clip": {"size": [640, 480], "fps": 30, "frames": frames, "letters": "BYE WAG (Massey photos)"},
        "machine": {"cpus": os.cpu_count(), "load_average_1min": [round(load_before, 2), round(load_after, 2)]},
        "python_tracking": python, "browser": browser,
        "goal": {"browser_fps": GOAL_FPS, "met": browser["fps"] >= GOAL_FPS},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"python tracking: {python['per_frame_ms']['p50']:.1f} ms/frame p50 ({python['fps_equivalent']} fps equivalent; "
          f"hands {python['ms']['hands']['p50']:.1f} ms, model {python['ms']['model']['p50']:.2f} ms)")
    print(f"browser: {browser['fps']} fps over {browser['seconds']} s (goal {GOAL_FPS}); per frame: hands "
          f"{browser['ms']['hands'].get('p50', 0):.1f} ms p50, model {browser['ms_with_hand']['model'].get('p50', 0):.2f} ms, "
          f"spelling {browser['ms']['spelling'].get('p50', 0):.2f} ms; CPU {browser['cpu_ms_per_frame']} ms/frame "
          f"(Python {python['cpu_ms_per_frame']}); interval {browser['frame_interval_ms'].get('p50', 0):.1f} ms p50")
    print(f"browser vs Python top-1 on the same frames: {browser['agreement_with_python']}")
    print(f"load average (1 min) {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
