"""Jinja2 environment of the dashboards (autoescape on for every template)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["known_metric"] = _known_metric
    return env


def _known_metric(metric_id: str) -> bool:
    from pulse.metrics import CATALOG

    return metric_id in CATALOG.metrics


def render(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(context)
