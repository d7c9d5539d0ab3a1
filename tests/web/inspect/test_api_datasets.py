"""The dataset API on the real app and a real SQLite index: listing, counts, paged queries
(bad query -> 400 with the parser's message), the fix layer (relabel / remove / delete box,
undo; source files untouched), thumbnails, check, export, and many writers at once."""
from __future__ import annotations

import hashlib
import threading

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from fingerspell.data.index import Dataset
from fingerspell.web.app import ServerConfig, create_app

from .conftest import LETTERS, PER_LETTER

WRITERS, PER_WRITER = 6, 8


@pytest.fixture(scope="module")
def client(mini_dataset):
    return TestClient(create_app(ServerConfig()))


def fix(client, sample_id, action, value=None, reason="test"):
    return client.post("/api/datasets/mini/fixes", json={"sample_id": sample_id, "action": action, "value": value,
                                                          "reason": reason})


def test_datasets_and_counts(client):
    [entry] = client.get("/api/datasets").json()
    assert entry["name"] == "mini" and entry["samples"] == len(LETTERS) * PER_LETTER
    info = client.get("/api/datasets/mini").json()
    assert {k: info["by_class"][k] for k in LETTERS} == {k: PER_LETTER for k in LETTERS}
    assert info["by_class_split"]["M"] == {"unassigned": PER_LETTER}  # the class chart's data
    assert client.get("/api/datasets/nope").status_code == 404
    assert client.get("/api/datasets/..%2Fx").status_code in (400, 404)


def test_query_pages_and_errors(client):
    page = client.get("/api/datasets/mini/samples", params={"query": 'label in ("M", "N")', "limit": 4}).json()
    assert page["total"] == 2 * PER_LETTER and len(page["samples"]) == 4
    rest = client.get("/api/datasets/mini/samples", params={"query": 'label in ("M", "N")', "offset": 4}).json()
    ids = [s["id"] for s in page["samples"] + rest["samples"]]
    assert len(ids) == len(set(ids)) == 2 * PER_LETTER and ids == sorted(ids)
    assert client.get("/api/datasets/mini/samples").json()["total"] == len(LETTERS) * PER_LETTER
    bad = client.get("/api/datasets/mini/samples", params={"query": 'lable == "A"'})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("unknown field 'lable' at column 1 (did you mean 'label'?)")
    sql = client.get("/api/datasets/mini/samples", params={"query": 'label == "A"; DROP TABLE samples'})
    assert sql.status_code == 400 and "column" in sql.json()["detail"]
    injected = client.get("/api/datasets/mini/samples", params={"query": "label == \"A' OR 1=1 --\""}).json()
    assert injected["total"] == 0  # a quote inside a string is a value, not SQL


def test_relabel_undo_keeps_the_source_untouched(client):
    sample = client.get("/api/datasets/mini/samples", params={"query": 'label == "M"', "limit": 1}).json()["samples"][0]
    source = Dataset.load("mini")
    path = source.file_path(source.sample(sample["id"]))
    source.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    answer = fix(client, sample["id"], "relabel", "n", reason="an N, not an M")
    assert answer.status_code == 200, answer.text
    fixed = answer.json()["sample"]
    assert fixed["label"] == "N" and fixed["original_label"] == "M" and fixed["relabelled"]
    assert fixed["fixes"][-1]["reason"] == "an N, not an M"
    assert client.get("/api/datasets/mini/samples", params={"query": 'original_label == "M" and label == "N"'}).json()["total"] == 1
    with Dataset.load("mini") as ds:  # the CLI's fix layer sees it
        assert [f["value"] for f in ds.fixes(include_undone=False)] == ["N"]
    undone = client.post("/api/datasets/mini/fixes/undo", json={"fix_id": answer.json()["fix"]}).json()
    assert undone["sample"]["label"] == "M" and not undone["sample"]["relabelled"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert client.post("/api/datasets/mini/fixes/undo", json={"fix_id": answer.json()["fix"]}).status_code == 400


def test_remove_and_bad_fixes(client):
    sample_id = client.get("/api/datasets/mini/samples", params={"query": 'label == "V"', "limit": 1}).json()["samples"][0]["id"]
    removed = fix(client, sample_id, "remove", reason="blurred").json()
    assert removed["sample"]["removed"]
    assert client.get("/api/datasets/mini/samples", params={"query": 'label == "V"'}).json()["total"] == PER_LETTER - 1
    assert client.get(f"/api/datasets/mini/samples/{sample_id}").json()["removed"]  # still viewable, to undo
    client.post("/api/datasets/mini/fixes/undo", json={"fix_id": removed["fix"]})
    assert client.get("/api/datasets/mini/samples", params={"query": 'label == "V"'}).json()["total"] == PER_LETTER
    assert fix(client, sample_id, "relabel", "Q").status_code == 400  # not a class of this dataset
    assert "no box" in fix(client, sample_id, "delete-box", "0").json()["detail"]  # class folders have no boxes
    assert fix(client, sample_id, "relabel", "A", reason="").status_code == 422
    assert fix(client, 999999, "remove").status_code == 404
    assert fix(client, sample_id, "rename", "A").status_code == 422


def test_thumbnails_are_images(client):
    sample_id = client.get("/api/datasets/mini/samples", params={"limit": 1}).json()["samples"][0]["id"]
    thumb = client.get(f"/api/datasets/mini/samples/{sample_id}/image", params={"size": 96})
    image = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.headers["content-type"] == "image/jpeg" and max(image.shape[:2]) == 96
    full = client.get(f"/api/datasets/mini/samples/{sample_id}/image", params={"size": 0})
    assert max(cv2.imdecode(np.frombuffer(full.content, np.uint8), cv2.IMREAD_COLOR).shape[:2]) == 400
    assert client.get("/api/datasets/mini/samples/999999/image").status_code == 404


def test_check_and_export(client, inspect_home):
    report = client.post("/api/datasets/mini/check", json={}).json()
    assert report["samples"] == len(LETTERS) * PER_LETTER and report["counts"]["missing"] == 0
    assert "summary" in report
    out = client.post("/api/datasets/mini/export", json={"format": "folders"}).json()
    assert out["images"] == len(LETTERS) * PER_LETTER and out["path"].startswith(str(inspect_home / "exports"))
    assert client.post("/api/datasets/mini/export", json={"format": "yolo"}).status_code == 400  # no boxes
    assert client.post("/api/datasets/mini/export", json={"format": "../../x"}).status_code == 422


def test_many_writers_at_once_lose_no_fix(live_server):
    """6 threads x 8 relabels, each followed by a query, through a real HTTP server: no
    error, no "database is locked", and every fix recorded once."""
    base = live_server.url + "/api/datasets/mini"
    ids = [s["id"] for s in httpx.get(base + "/samples", params={"limit": 200}).json()["samples"]]
    before = len(httpx.get(base + "/fixes").json())
    failures: list[str] = []
    made: list[int] = []
    lock = threading.Lock()

    def writer(k: int) -> None:
        with httpx.Client(timeout=180) as http:
            for i in range(PER_WRITER):
                sample_id = ids[(k * PER_WRITER + i) % len(ids)]
                answer = http.post(base + "/fixes", json={"sample_id": sample_id, "action": "relabel",
                                                          "value": LETTERS[i % len(LETTERS)], "reason": f"w{k}-{i}"})
                if answer.status_code != 200:
                    failures.append(answer.text)
                    continue
                with lock:
                    made.append(answer.json()["fix"])
                page = http.get(base + "/samples", params={"query": 'label == "A"'})
                if page.status_code != 200:
                    failures.append(page.text)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    fixes = httpx.get(base + "/fixes").json()
    assert len(fixes) - before == len(made) == WRITERS * PER_WRITER == len(set(made))
    assert {f["reason"] for f in fixes[before:]} == {f"w{k}-{i}" for k in range(WRITERS) for i in range(PER_WRITER)}
    # Each sample's label is the last fix made to it.
    last = {}
    for f in fixes:
        if f["undone"] is None and f["action"] == "relabel":
            last[f["sample_id"]] = f["value"]
    for sample_id, label in last.items():
        assert httpx.get(f"{base}/samples/{sample_id}").json()["label"] == label
    for fix_id in made:  # leave the dataset as imported for the other tests
        httpx.post(base + "/fixes/undo", json={"fix_id": fix_id})


@pytest.fixture(scope="module")
def boxed(datasets_root, fs_home_module) -> str:
    """The asl-letters YOLO set (one hand box per photo), imported into this module's home."""
    from fingerspell.data.importer import import_dataset

    import_dataset(datasets_root / "asl-letters", format="yolo", name="letters").close()
    return "letters"


def test_delete_a_box_and_undo_it(client, boxed):
    page = client.get(f"/api/datasets/{boxed}/samples", params={"query": 'label == "M" and instances == 1', "limit": 1}).json()
    sample = page["samples"][0]
    [box] = sample["boxes"]
    assert box[4] == "M" and box[2] > box[0] and box[3] > box[1]
    thumb = client.get(f"/api/datasets/{boxed}/samples/{sample['id']}/image", params={"size": 0})
    plain = client.get(f"/api/datasets/{boxed}/samples/{sample['id']}/image", params={"size": 0, "boxes": "false"})
    drawn = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    bare = cv2.imdecode(np.frombuffer(plain.content, np.uint8), cv2.IMREAD_COLOR)
    x0, y0 = int(round(box[0])), int(round(box[1]))
    x1 = int(round(box[2]))
    edge = drawn[y0, x0:x1].astype(int) - bare[y0, x0:x1].astype(int)
    assert np.abs(edge).mean() > 20  # the box is drawn along its top edge
    answer = client.post(f"/api/datasets/{boxed}/fixes", json={"sample_id": sample["id"], "action": "delete-box",
                                                               "value": "0", "reason": "not a hand"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["sample"]["instances"] == 0 and answer.json()["sample"]["boxes"] == []
    query = 'label == "M" and instances == 0'
    assert client.get(f"/api/datasets/{boxed}/samples", params={"query": query}).json()["total"] == 1
    undone = client.post(f"/api/datasets/{boxed}/fixes/undo", json={}).json()  # the latest fix in force
    assert undone["undone"] == answer.json()["fix"] and undone["sample"]["boxes"] == [box]
    assert client.get(f"/api/datasets/{boxed}/samples", params={"query": query}).json()["total"] == 0
