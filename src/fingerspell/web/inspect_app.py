"""Adds the inspect page, the dataset pages and their API to the app (`create_app` calls
`add_inspect_and_datasets`): the shared state they use and the request-size limit."""
from __future__ import annotations

from fastapi import FastAPI

from fingerspell.web import api_dataset_tools, api_datasets, api_files, api_inspect, api_predict
from fingerspell.web.dataset_store import DatasetStore
from fingerspell.web.jobs import Jobs
from fingerspell.web.predictors import Predictors
from fingerspell.web.uploads import RequestSizeLimit, request_limit


def add_inspect_and_datasets(app: FastAPI) -> None:
    config = app.state.config
    app.state.predictors = Predictors(app.state.bundle)
    app.state.jobs = Jobs()
    app.state.datasets = DatasetStore()
    for module in (api_predict, api_inspect, api_files, api_datasets, api_dataset_tools):
        app.include_router(module.router)
    # Every request body, not only the upload routes: nothing big is spooled before it is refused.
    app.add_middleware(RequestSizeLimit, limit=request_limit(config.max_upload_bytes))

