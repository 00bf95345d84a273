"""Segment-compatible ingestion: POST /v1/batch, /v1/track, /v1/identify, /v1/group.

Bodies are parsed with orjson and validated set-based (see `ingest/normalize.py`) rather than
by a pydantic model per message: that is what keeps a 500-message batch in milliseconds.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from pulse.access import write_keys
from pulse.api.deps import StoreDep
from pulse.ingest.contract import (
    MAX_BATCH_BYTES,
    MAX_BATCH_MESSAGES,
    ForbiddenMessages,
    RejectedBatch,
    Rejection,
)
from pulse.ingest.group_commit import GroupWriter

router = APIRouter(prefix="/v1", tags=["ingestion"])

MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messageId", "timestamp"],
    "properties": {
        "type": {"type": "string", "enum": ["track", "identify", "group"]},
        "messageId": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "userId": {"type": "string"},
        "groupId": {"type": "string"},
        "event": {"type": "string"},
        "properties": {"type": "object"},
        "traits": {"type": "object"},
    },
}
BATCH_SCHEMA = {
    "type": "object",
    "required": ["batch"],
    "properties": {"batch": {"type": "array", "items": MESSAGE_SCHEMA, "maxItems": 500}},
}


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {
            "400": {"description": "Body is not JSON, or over the batch limits"},
            "401": {"description": "Missing or unknown write key"},
            "403": {"description": "A message outside the key's partner"},
            "422": {"description": "A message breaks the contract; names index and field"},
        },
    }


def _json(content: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def _error(status: int, rejections: list[Rejection]) -> Response:
    first = rejections[0]
    return _json(
        status=status,
        content={
            "success": False,
            "error": f"message {first.index}: {first.field}: {first.message}",
            "errors": [r.as_dict() for r in rejections],
        },
    )


def _bad_request(message: str, field: str = "body") -> Response:
    return _json(
        status=400,
        content={
            "success": False,
            "error": message,
            "errors": [{"field": field, "message": message}],
        },
    )


def _key_from(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "bearer" and encoded.strip():
        return encoded.strip()
    if scheme.lower() == "basic" and encoded:
        try:
            user, _, _ = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        if user:
            return user
    raise HTTPException(
        status_code=401,
        detail="authorization: send the write key as the HTTP Basic user name (or a Bearer token)",
        headers={"WWW-Authenticate": 'Basic realm="pulse"'},
    )


async def _accept(request: Request, store: StoreDep, single: str | None) -> Response:
    key = await run_in_threadpool(write_keys.lookup, store, _key_from(request))
    if key is None:
        raise HTTPException(status_code=401, detail="authorization: unknown or revoked write key")
    body = await request.body()
    if len(body) > MAX_BATCH_BYTES:
        return _bad_request(f"body is {len(body)} bytes; the limit is {MAX_BATCH_BYTES} (1 MiB)")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _bad_request(f"body is not valid JSON: {exc}")
    if single is None:
        if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
            return _bad_request("body must be an object with a `batch` array", "batch")
        messages: list[Any] = payload["batch"]
        if len(messages) > MAX_BATCH_MESSAGES:
            return _bad_request(
                f"batch has {len(messages)} messages; the limit is {MAX_BATCH_MESSAGES}", "batch"
            )
    else:
        if not isinstance(payload, dict):
            return _bad_request("body must be a JSON object")
        payload.setdefault("type", single)
        if payload["type"] != single:
            return _error(422, [Rejection(0, "type", f"must be {single} on /v1/{single}")])
        messages = [payload]
    try:
        writer: GroupWriter = request.app.state.writer
        result = await run_in_threadpool(writer.write, messages, key.partner_id)
    except ForbiddenMessages as exc:
        return _error(403, exc.rejections)
    except RejectedBatch as exc:
        return _error(422, exc.rejections)
    return _json(
        {
            "success": True,
            "received": result.received,
            "stored": result.stored,
            "duplicates": result.duplicates,
        }
    )


@router.post("/batch", openapi_extra=_body_doc(BATCH_SCHEMA), summary="Ingest up to 500 messages")
async def batch(request: Request, store: StoreDep) -> Response:
    return await _accept(request, store, None)


@router.post("/track", openapi_extra=_body_doc(MESSAGE_SCHEMA), summary="Ingest one track message")
async def track(request: Request, store: StoreDep) -> Response:
    return await _accept(request, store, "track")


@router.post("/identify", openapi_extra=_body_doc(MESSAGE_SCHEMA), summary="Ingest one identify")
async def identify(request: Request, store: StoreDep) -> Response:
    return await _accept(request, store, "identify")


@router.post("/group", openapi_extra=_body_doc(MESSAGE_SCHEMA), summary="Ingest one group message")
async def group(request: Request, store: StoreDep) -> Response:
    return await _accept(request, store, "group")
