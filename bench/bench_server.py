"""Load test: the app under 50 concurrent clients on loopback for 30 s.

The server (`create_app` under uvicorn, one process, as `fingerspell serve` runs it) has the
Massey dataset imported into a temporary FINGERSPELL_HOME. Each client loops over a mix of
requests with no pause between them:
  60% queries  GET /api/datasets/massey/samples?query=... (five query shapes, random pages)
  20% predict  POST /api/predict with a real Massey photo
  20% fixes    POST /api/datasets/massey/fixes (relabel with a unique reason), and one in
               four of those followed by an undo of that client's own fix
Afterwards every fix a client was told was made is looked up in the index: the same id,
sample, value and reason must be there, undone exactly when the client undid it, and every
sample's label must be the last relabel in force. Targets: 0 errors (any non-2xx answer or
failed connection), 0 lost fixes. Prints p50 / p95 latency per kind of request.

    .venv/bin/python bench/bench_server.py                 # writes bench/results/server.json
    .venv/bin/python bench/bench_server.py --clients 20 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATASETS = Path(os.environ.get("FINGERSPELL_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
RESULTS = REPO / "bench" / "results"
QUERIES = ['label in ("M", "N")', 'signer == "hand2"', 'label == "A" and signer == "hand1"',
           'not label in ("0", "1", "2") and width >= 100', 'source contains "_dif_"']
SERVER = """
import sys, uvicorn
from pathlib import Path
from fingerspell.web.app import ServerConfig, create_app
uvicorn.run(create_app(ServerConfig()), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """The app in its own process (as `fingerspell serve` runs it); its stderr (MediaPipe's
    start-up chatter, any traceback) goes to `log`."""
    port = free_port()
    env = {**os.environ, "FINGERSPELL_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


class Client(threading.Thread):
    def __init__(self, k: int, url: str, stop_at: float, photos: list[bytes], ids: list[int], labels: list[str]):
        super().__init__(daemon=True)
        self.k, self.url, self.stop_at = k, url, stop_at
        self.photos, self.ids, self.labels = photos, ids, labels
        self.rng = random.Random(k)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.fixes: list[dict] = []  # what the server said it recorded

    def call(self, http, kind: str, method: str, path: str, **kwargs):
        start = time.perf_counter()
        try:
            answer = http.request(method, self.url + path, **kwargs)
        except Exception as exc:  # a refused or dropped connection is an error like any other
            self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        self.latency[kind].append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            self.errors.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
            return None
        return answer.json()

    def run(self) -> None:
        import httpx

        with httpx.Client(timeout=120) as http:
            n = 0
            while time.time() < self.stop_at:
                n += 1
                roll = self.rng.random()
                if roll < 0.6:
                    query = self.rng.choice(QUERIES)
                    self.call(http, "query", "GET", "/api/datasets/massey/samples",
                              params={"query": query, "offset": self.rng.choice([0, 0, 48, 96]), "limit": 48})
                elif roll < 0.8:
                    photo = self.rng.choice(self.photos)
                    self.call(http, "predict", "POST", "/api/predict", files={"file": ("photo.jpg", photo)})
                else:
                    sample_id = self.rng.choice(self.ids)
                    value = self.rng.choice(self.labels)
                    reason = f"client {self.k} op {n}"
                    made = self.call(http, "fix", "POST", "/api/datasets/massey/fixes",
                                     json={"sample_id": sample_id, "action": "relabel", "value": value, "reason": reason})
                    if made is None:
                        continue
                    record = {"id": made["fix"], "sample_id": sample_id, "value": value, "reason": reason, "undone": False}
                    self.fixes.append(record)
                    if self.rng.random() < 0.25:
                        if self.call(http, "undo", "POST", "/api/datasets/massey/fixes/undo", json={"fix_id": record["id"]}):
                            record["undone"] = True


def verify(url: str, clients: list[Client]) -> dict:
    """Every fix a client saw made is in the index as made; labels follow the fixes in force."""
    import httpx

    stored = {f["id"]: f for f in httpx.get(url + "/api/datasets/massey/fixes", timeout=120).json()}
    made = [f for c in clients for f in c.fixes]
    lost = []
    for f in made:
        s = stored.get(f["id"])
        if (s is None or s["sample_id"] != f["sample_id"] or s["value"] != f["value"] or s["reason"] != f["reason"]
                or (s["undone"] is not None) != f["undone"]):
            lost.append(f)
    last: dict[int, str] = {}
    for f in sorted(stored.values(), key=lambda f: f["id"]):
        if f["undone"] is None and f["action"] == "relabel":
            last[f["sample_id"]] = f["value"]
    wrong_labels = 0
    with httpx.Client(timeout=60) as http:
        for sample_id, label in last.items():
            if http.get(f"{url}/api/datasets/massey/samples/{sample_id}").json()["label"] != label:
                wrong_labels += 1
    return {"fixes_made": len(made), "fixes_undone": sum(f["undone"] for f in made), "lost_fixes": len(lost),
            "samples_fixed": len(last), "labels_not_matching_fixes": wrong_labels}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "server.json")
    args = parser.parse_args()

    from fingerspell.data.importer import import_dataset

    massey = DATASETS / "massey" / "asl_dataset"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["FINGERSPELL_HOME"] = str(home)
        t = time.perf_counter()
        with import_dataset(massey, format="folders", name="massey") as ds:
            ids = [s.id for s in ds.samples()]
            labels = ds.classes
        print(f"imported Massey ({len(ids)} samples) in {time.perf_counter() - t:.1f} s", flush=True)
        photos = [p.read_bytes() for p in sorted(massey.glob("*/*.jpeg"))[::97][:20]]
        proc, url = start_server(home, args.out.with_suffix(".log"))
        try:
            import httpx

            httpx.post(url + "/api/predict", files={"file": ("warm.jpg", photos[0])}, timeout=120)  # load the model
            load_start = round(os.getloadavg()[0], 2)
            stop_at = time.time() + args.seconds
            clients = [Client(k, url, stop_at, photos, ids, labels) for k in range(args.clients)]
            started = time.perf_counter()
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            wall = time.perf_counter() - started
            check = verify(url, clients)
        finally:
            proc.terminate()
            proc.wait(10)

    by_kind: dict[str, list[float]] = defaultdict(list)
    for c in clients:
        for kind, values in c.latency.items():
            by_kind[kind].extend(values)
    errors = [e for c in clients for e in c.errors]
    everything = [v for values in by_kind.values() for v in values]
    result = {
        "clients": args.clients, "seconds": round(wall, 1), "requests": len(everything) + len(errors),
        "requests_per_s": round(len(everything) / wall, 1), "errors": len(errors), "error_examples": errors[:5],
        # Predictions are the bottleneck (two predictors, one per core): their wait is queueing.
        "predictions_per_s": round(len(by_kind.get("predict", [])) / wall, 2),
        **check,
        "latency_ms": {kind: {"n": len(v), "p50": round(float(np.percentile(v, 50)), 1),
                              "p95": round(float(np.percentile(v, 95)), 1), "max": round(float(max(v)), 1)}
                       for kind, v in sorted(by_kind.items()) + [("all", everything)] if v},
        "cpu_count": os.cpu_count(),
        # The machine's load while it ran (other work shares the cores): read latency with it.
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
    }
    print(f"{args.clients} clients for {args.seconds:.0f} s (the last in-flight requests done after {wall:.1f} s; "
          f"load average {load_start} -> {result['load_average_1min']['end']} on {os.cpu_count()} cores)")
    print(f"{result['requests']} requests ({result['requests_per_s']}/s; {result['predictions_per_s']} predictions/s), "
          f"{len(errors)} errors, {check['fixes_made']} fixes ({check['fixes_undone']} undone), "
          f"{check['lost_fixes']} lost, {check['labels_not_matching_fixes']} labels not matching their fixes")
    print(f"{'request':<9} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for kind, s in result["latency_ms"].items():
        print(f"{kind:<9} {s['n']:>6} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['max']:>9.1f}")
    for e in errors[:5]:
        print("error:", e)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    ok = not errors and check["lost_fixes"] == 0 and check["labels_not_matching_fixes"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
