"""The inspect API on the real app: predict (same record as `predict --json`), the upload
limits (413, 415), the roots (404 for `..`, absolute paths and symlinks out), folder and video
jobs, comparing two models."""
from __future__ import annotations

import io
import json
import time

import pytest
from fastapi.testclient import TestClient

from fingerspell.cli import main
from fingerspell.export.bundle import Bundle
from fingerspell.web.app import ServerConfig, create_app


@pytest.fixture(scope="module")
def client(photo_root):
    return TestClient(create_app(ServerConfig(roots=[photo_root])))


def upload(client, path, name=None, **form):
    return client.post("/api/predict", files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")},
                       data=form)


def wait(client, job, timeout=180.0):
    deadline = time.time() + timeout
    results = list(job["results"])
    while True:
        view = client.get(f"/api/jobs/{job['id']}", params={"since": len(results)}).json()
        results += view["results"]
        if view["state"] != "running":
            return view, results
        assert time.time() < deadline, f"job {job['id']} still running after {timeout} s"
        time.sleep(0.1)


def test_predict_gives_the_predict_json_record(client, photos, capsys):
    path = photos["B"][0]
    record = upload(client, path).json()
    assert record["letter"] == "B" and record["hand"] is True
    assert len(record["landmarks"]) == 21 and len(record["top5"]) == 5
    # The same record as the CLI's (the CLI names the file `path` where the API has `source`).
    assert main(["predict", str(path), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out.splitlines()[0])
    for key in ("letter", "confidence", "top5", "hand_box", "handedness", "landmarks", "image_size"):
        assert record[key] == cli[key], key
    assert set(record) - {"source"} == set(cli) - {"path", "expected"}


def test_threshold_and_class_filter(client, photos):
    path = photos["A"][0]
    strict = upload(client, path, conf="1.0").json()
    assert strict["letter"] is None and strict["top5"][0][0] == "A"  # seen, but below the threshold
    filtered = upload(client, path, classes="M,N").json()
    assert filtered["letter"] in ("M", "N", None) and {name for name, _ in filtered["top5"]} <= {"M", "N"}
    assert client.post("/api/predict", files={"file": ("a.jpg", path.read_bytes())}, data={"classes": "Q9"}).status_code == 400
    assert client.post("/api/predict", files={"file": ("a.jpg", path.read_bytes())}, data={"conf": "1.5"}).status_code == 400


def test_content_is_checked_by_decoding_not_by_name(client, photos):
    text = client.post("/api/predict", files={"file": ("photo.jpg", b"GIF89a but not really an image")})
    assert text.status_code == 415 and "photo.jpg: not an image" in text.json()["detail"]
    real = upload(client, photos["L"][0], name="notes.txt")  # a JPEG with the wrong name is still a JPEG
    assert real.status_code == 200 and real.json()["letter"] == "L"
    video = client.post("/api/jobs/video", files={"file": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42 broken")})
    assert video.status_code == 415 and "not a video" in video.json()["detail"]


def test_uploads_over_the_limit_are_refused_with_413(photo_root, photos):
    small = TestClient(create_app(ServerConfig(roots=[photo_root], max_upload_bytes=20_000)))
    photo = photos["A"][0].read_bytes()
    payload = photo + b"\0" * max(0, 200_000 - len(photo))  # a real JPEG, padded past both limits
    answer = small.post("/api/predict", files={"file": ("big.jpg", payload)})
    assert answer.status_code == 413 and "too large" in answer.json()["detail"]
    # Sent without a Content-Length (chunked): stopped once the limit has arrived.
    chunked = small.post("/api/predict", content=(payload[i:i + 8192] for i in range(0, len(payload), 8192)),
                         headers={"content-type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 413
    # Over the per-file limit but under the request's (the multipart allowance): still 413.
    middle = small.post("/api/predict", files={"file": ("mid.jpg", b"\xff" * 30_000)})
    assert middle.status_code == 413
    assert small.post("/api/predict", files={"file": ("ok.png", b"\x89PNG not really")}).status_code == 415


@pytest.mark.parametrize("path", ["../outside.txt", "letters/../../x", "/etc/passwd", "escape.jpg",
                                  "escape-dir", "letters/A/missing.jpg", "notes.txt", "letters\\..\\..\\x"])
def test_files_outside_the_roots_are_404(client, path):
    assert client.get("/api/files", params={"root": 0, "path": path}).status_code == 404


def test_folders_and_jobs_outside_the_roots_are_404(client):
    for path in ("..", "escape-dir", "/tmp", "letters/../.."):
        assert client.get("/api/folders", params={"root": 0, "path": path}).status_code == 404, path
        assert client.post("/api/jobs/folder", json={"root": 0, "path": path}).status_code == 404, path
        assert client.post("/api/jobs/video", data={"root": 0, "path": path}).status_code == 404, path
    assert client.get("/api/folders", params={"root": 1}).status_code == 404
    listing = client.get("/api/folders", params={"root": 0}).json()
    names = {f["name"] for f in listing["folders"]} | {f["name"] for f in listing["files"]}
    assert {"letters", "clips", "inside-link"} <= names and not names & {"escape.jpg", "escape-dir", "notes.txt"}


def test_a_symlink_inside_the_root_is_followed(client, photos):
    name = photos["A"][0].name
    answer = client.get("/api/files", params={"root": 0, "path": f"inside-link/{name}"})
    assert answer.status_code == 200 and answer.content == photos["A"][0].read_bytes()


def test_without_roots_nothing_on_disk_is_reachable(photos):
    bare = TestClient(create_app(ServerConfig()))
    assert bare.get("/api/roots").json() == []
    assert bare.get("/api/files", params={"root": 0, "path": str(photos["A"][0])}).status_code == 404


def test_folder_job_compares_two_models(client, photos):
    job = client.post("/api/jobs/folder", json={"root": 0, "path": "letters", "compare": "default", "limit": 4}).json()
    view, results = wait(client, job)
    assert view["state"] == "finished" and view["total"] == len(results) == 4 and view["summary"]["truncated"]
    assert [r["path"].split("/")[1] for r in results] == ["A"] * len(photos["A"]) + ["B"] * (4 - len(photos["A"]))
    for result in results:
        assert len(result["records"]) == 2
        assert result["expected"] == result["path"].split("/")[1]
        # The served model is the default one here: side by side they must agree exactly.
        assert result["records"][0]["top5"] == result["records"][1]["top5"]
    assert view["summary"]["correct"] == view["summary"]["labelled"] == len(results)
    assert view["summary"]["agree"] == len(results)


def test_video_job_spells_the_clip_with_times(client, photo_root):
    job = client.post("/api/jobs/video", data={"root": 0, "path": "clips/lv.avi"})
    assert job.status_code == 200, job.text
    view, frames = wait(client, job.json())
    assert view["state"] == "finished", view["error"]
    assert len(frames) == 60 and frames[0]["time"] == 0.0
    summary = view["summary"]
    assert summary["text"] == "LV"
    letters = summary["letters"]
    assert [c["letter"] for c in letters] == ["L", "V"]
    assert 0 <= letters[0]["time"] < 1.0 <= letters[1]["time"] < 1.4  # V shows within 0.4 s of its start


def test_video_job_compares_two_models(client, photo_root):
    job = client.post("/api/jobs/video", data={"root": 0, "path": "clips/lv.avi", "compare": "default"})
    assert job.status_code == 200, job.text
    view, frames = wait(client, job.json())
    assert view["state"] == "finished", view["error"]
    assert view["total"] == view["done"] == 120  # both models went through the 60 frames
    summary = view["summary"]
    assert summary["model"] == "served" and summary["text"] == "LV"
    compare = summary["compare"]
    assert compare["model"] == "default" and compare["text"] == "LV"  # the same bundle spells the same
    assert compare["frame_letters"] == [f["letter"] for f in frames]
    assert [c["letter"] for c in compare["letters"]] == ["L", "V"]


def test_uploaded_video_is_analysed_like_a_file(client, photo_root):
    data = (photo_root / "clips" / "lv.avi").read_bytes()
    job = client.post("/api/jobs/video", files={"file": ("my clip.bin", io.BytesIO(data))})
    assert job.status_code == 200, job.text
    view, _ = wait(client, job.json())
    assert view["summary"]["text"] == "LV" and view["title"] == "my clip.bin"


def test_unknown_model_and_job(client):
    assert client.post("/api/jobs/folder", json={"root": 0, "path": "letters", "model": "../etc"}).status_code == 400
    assert client.get("/api/jobs/nope").status_code == 404
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == ["served"]
    # Each model says its still-image threshold, where the inspect page's slider starts.
    assert models[0]["threshold"] == Bundle.load(models[0]["path"]).still.threshold


def test_the_api_is_documented(client):
    schema = client.get("/openapi.json").json()
    for path, method in [("/api/predict", "post"), ("/api/datasets", "get"), ("/api/datasets/{name}/samples", "get"),
                         ("/api/datasets/{name}/fixes", "post"), ("/api/datasets/{name}/fixes/undo", "post"),
                         ("/api/jobs/folder", "post"), ("/api/jobs/video", "post"), ("/api/jobs/{job_id}", "get"),
                         ("/api/folders", "get"), ("/api/models", "get"), ("/api/datasets/{name}/check", "post"),
                         ("/api/datasets/{name}/export", "post")]:
        assert method in schema["paths"][path], (path, method)
        assert schema["paths"][path][method].get("description"), f"{method} {path} has no description"
    assert client.get("/inspect").status_code == client.get("/datasets").status_code == 200
