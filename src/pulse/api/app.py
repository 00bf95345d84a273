"""The ASGI application `pulse serve` runs: ingestion, metric API and OpenAPI docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from pulse import __version__
from pulse.api import alerts as alerts_api
from pulse.api import audit, auth, customers, ingest, metrics, tables, targets
from pulse.api import exports as exports_api
from pulse.api import reports as reports_api
from pulse.ingest.group_commit import GroupWriter
from pulse.settings import Settings
from pulse.store.refresher import Refresher
from pulse.store.store import Store
from pulse.web import mount as mount_web
from pulse.web.prime import start_priming


def create_app(store: Store, settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.writer = GroupWriter(store)
        scheduler = None
        if settings.scheduler:  # reports and alerts (PULSE_SCHEDULER=1)
            from pulse.reports.schedule import build_scheduler

            scheduler = build_scheduler(store, settings)
            scheduler.start()
        app.state.scheduler = scheduler
        refresher = None
        app.state.priming = None
        if settings.refresh:  # default views primed, asked answers kept warm after ingests
            app.state.priming = start_priming(store, settings)
            refresher = Refresher(store).start()
        try:
            yield
        finally:
            if app.state.priming is not None:
                app.state.priming.cancel()
            if refresher is not None:
                refresher.stop()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            app.state.writer.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Pulse",
        version=__version__,
        description="Analytics for a credit-metered AI SaaS: ingestion (Segment spec) and metrics.",
        dependencies=[Depends(auth.authorize)],  # every route: its rule in access/policy.py
    )
    app.state.store = store
    app.state.settings = settings
    app.include_router(ingest.router)
    app.include_router(metrics.router)
    app.include_router(tables.router)
    app.include_router(audit.router)
    app.include_router(customers.router)
    app.include_router(targets.router)
    app.include_router(exports_api.router)
    app.include_router(alerts_api.router)
    app.include_router(reports_api.router)
    auth.install(app, store, settings)
    mount_web(app)

    @app.get("/healthz", tags=["system"], summary="Liveness, schema version, priming")
    def healthz() -> dict[str, object]:
        """`priming` is true while the dashboards' default views are computed after start."""
        priming = app.state.priming
        return {
            "ok": True,
            "schema": store.schema_version(),
            "priming": priming is not None and priming.running,
        }

    return app
