"""Shared dependencies of the HTTP routes (FastAPI `Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pulse.access.policy import ANONYMOUS, Principal
from pulse.settings import Settings
from pulse.store.store import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_principal(request: Request) -> Principal:
    """Who is asking, as the app-wide `api.auth.authorize` dependency resolved it."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
