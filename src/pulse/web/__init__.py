"""Web dashboards: the four seeds' pages, declared in `pages.py`, served by `routes.py`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pulse.web.assets import STATIC, warm_up


def mount(app: FastAPI) -> None:
    """Add the dashboard pages, their fragments and static files to the app."""
    from pulse.web.routes import router

    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
    warm_up()
