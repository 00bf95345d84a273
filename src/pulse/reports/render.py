"""Jinja2 templates of e-mails and PDF snapshots (autoescaped: data never becomes markup)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATUS_COLOURS = {"healthy": "#1e8e3e", "warning": "#d93025", "neutral": "#5f6368"}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["status_colour"] = lambda s: STATUS_COLOURS.get(s or "", "#5f6368")
    return env
