"""The ASGI application `pulse serve` runs: ingestion, metric API and OpenAPI docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pulse import __version__
from pulse.api import ingest, metrics, tables
from pulse.ingest.group_commit import GroupWriter
from pulse.settings import Settings
from pulse.store.store import Store


def create_app(store: Store, settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.writer = GroupWriter(store)
        try:
            yield
        finally:
            app.state.writer.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Pulse",
        version=__version__,
        description="Analytics for a credit-metered AI SaaS: ingestion (Segment spec) and metrics.",
    )
    app.state.store = store
    app.state.settings = settings
    app.include_router(ingest.router)
    app.include_router(metrics.router)
    app.include_router(tables.router)

    @app.get("/healthz", tags=["system"], summary="Liveness and schema version")
    def healthz() -> dict[str, object]:
        return {"ok": True, "schema": store.schema_version()}

    return app
