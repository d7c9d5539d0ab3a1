"""The dataset pages' API: the imported datasets, their counts, queries and the fix layer.

Queries use the language of `fingerspell data query` (`data.query.compile_query`), which
turns the text into a WHERE fragment with `?` placeholders: user text never becomes SQL.
Fixes go through `Dataset.add_fix` / `undo_fix`, the same layer as `fingerspell data fix`:
the source files are never touched and every fix can be undone.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from fingerspell.data.index import Dataset, Sample
from fingerspell.data.info import dataset_info, list_datasets
from fingerspell.data.query import compile_query
from fingerspell.errors import DatasetNotFoundError, FingerspellError, QuerySyntaxError
from fingerspell.web.assets import STATIC_DIR
from fingerspell.web.dataset_store import DatasetStore

router = APIRouter(tags=["datasets"])

MAX_PAGE = 200


@router.get("/datasets", include_in_schema=False)
def datasets_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "datasets.html")


def store(request: Request) -> DatasetStore:
    return request.app.state.datasets


@contextmanager
def http_errors() -> Iterator[None]:
    """Library errors as HTTP answers: unknown dataset 404, anything else the user can fix 400."""
    try:
        yield
    except DatasetNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except FingerspellError as exc:
        raise HTTPException(400, str(exc)) from None


def sample_record(sample: Sample, fixes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data = {
        "id": sample.id, "where": sample.where, "source": sample.source, "row": sample.row,
        "label": sample.label, "original_label": sample.original_label, "relabelled": sample.label != sample.original_label,
        "split": sample.split, "original_split": sample.original_split, "signer": sample.signer,
        "width": sample.width, "height": sample.height, "instances": sample.instances,
        "boxes": [b.as_list() for b in sample.boxes], "removed": sample.removed,
    }
    if fixes is not None:
        data["fixes"] = fixes
    return data


def sample_fixes(ds: Dataset, sample_id: int) -> list[dict[str, Any]]:
    rows = ds.db.execute("SELECT * FROM fixes WHERE sample_id = ? ORDER BY id", (sample_id,))
    return [dict(r) for r in rows]


def get_sample(ds: Dataset, sample_id: int) -> Sample:
    """Raises HTTPException 404 when the dataset has no such sample."""
    row = ds.db.execute("SELECT id FROM samples WHERE id = ?", (sample_id,)).fetchone()
    if row is None:
        raise HTTPException(404, f"dataset {ds.name!r} has no sample with id {sample_id}")
    return ds.sample(sample_id)


@router.get("/api/datasets")
def datasets() -> list[dict[str, Any]]:
    """The imported datasets (FINGERSPELL_HOME/datasets): name, format, samples, classes, splits."""
    return list_datasets()


@router.get("/api/datasets/{name}")
def dataset(request: Request, name: str) -> dict[str, Any]:
    """What a dataset holds, fixes applied: counts by class (and class x split, the class chart's
    data), split and group, boxes, fixes in force, imbalance warnings. 404 for an unknown name."""
    with http_errors(), store(request).open(name) as ds:
        info = dataset_info(ds).to_dict()
        info["has_images"] = ds.has_images
        info["splits"] = ds.splits()
        return info


@router.get("/api/datasets/{name}/samples")
def samples(
    request: Request, name: str,
    query: str = Query("", description='as `fingerspell data query`, e.g. label in ("M","N") and signer == "hand2"'),
    offset: int = Query(0, ge=0), limit: int = Query(48, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    """One page of the samples matching `query` (empty = all), in id order, fixes applied,
    removed samples left out; `total` counts every match. 400 with the parser's message (and
    column) for a bad query."""
    try:
        where, params = compile_query(query) if query.strip() else ("1", [])
    except QuerySyntaxError as exc:
        raise HTTPException(400, str(exc)) from None
    with http_errors(), store(request).open(name) as ds:
        # `where` comes from the query compiler (placeholders only); values travel as parameters.
        total = ds.db.execute(f"SELECT COUNT(*) FROM samples WHERE removed = 0 AND ({where})", params).fetchone()[0]
        ids = [r[0] for r in ds.db.execute(
            f"SELECT id FROM samples WHERE removed = 0 AND ({where}) ORDER BY id LIMIT ? OFFSET ?",
            [*params, limit, offset])]
        return {"dataset": name, "query": query, "total": int(total), "offset": offset, "limit": limit,
                "samples": [sample_record(ds.sample(i)) for i in ids]}


@router.get("/api/datasets/{name}/samples/{sample_id}")
def sample(request: Request, name: str, sample_id: int) -> dict[str, Any]:
    """One sample (removed ones too) with its original label and every fix made to it."""
    with http_errors(), store(request).open(name) as ds:
        return sample_record(get_sample(ds, sample_id), sample_fixes(ds, sample_id))


class FixRequest(BaseModel):
    sample_id: int = Field(..., description="the sample's id")
    action: Literal["relabel", "remove", "delete-box"]
    value: str | None = Field(None, description="relabel: the new class; delete-box: the box index (0-based)")
    reason: str = Field(..., min_length=1, max_length=500, description="why (kept with the fix)")


class UndoRequest(BaseModel):
    fix_id: int | None = Field(None, description="the fix to undo; none = the latest fix in force")


@router.get("/api/datasets/{name}/fixes")
def fixes(request: Request, name: str) -> list[dict[str, Any]]:
    """Every fix of the dataset, in force and undone, oldest first."""
    with http_errors(), store(request).open(name) as ds:
        return ds.fixes()


@router.post("/api/datasets/{name}/fixes")
def add_fix(request: Request, name: str, body: FixRequest) -> dict[str, Any]:
    """Relabel a sample, remove it or delete one of its boxes, with a reason (the same fix layer
    as `fingerspell data fix`; source files untouched). Returns the fix id and the sample as it
    is now. 400 for a class the dataset does not have or a box it does not have."""
    if not body.reason.strip():
        raise HTTPException(400, "a reason is required")
    with http_errors(), store(request).writing(name) as ds:
        get_sample(ds, body.sample_id)
        value = body.value.strip() if body.action == "relabel" and body.value else body.value
        if body.action == "relabel" and value:
            # Same case rule as queries: "n" on a dataset of upper-case letters means N.
            value = next((c for c in ds.classes if c.lower() == value.lower()), value)
        fix_id = ds.add_fix(body.sample_id, body.action, value, body.reason.strip())
        return {"fix": fix_id, "sample": sample_record(ds.sample(body.sample_id), sample_fixes(ds, body.sample_id))}


@router.post("/api/datasets/{name}/fixes/undo")
def undo_fix(request: Request, name: str, body: UndoRequest) -> dict[str, Any]:
    """Undo one fix (or the latest in force). Returns its id and the sample as it is now.
    400 when there is no such fix in force."""
    with http_errors(), store(request).writing(name) as ds:
        undone = ds.undo_fix(body.fix_id)
        sample_id = ds.db.execute("SELECT sample_id FROM fixes WHERE id = ?", (undone,)).fetchone()[0]
        return {"undone": undone, "sample": sample_record(ds.sample(sample_id), sample_fixes(ds, sample_id))}
