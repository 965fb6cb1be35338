"""Reading request bodies in the API: the one place that decides what a JSON body is and how
much of any body is read.

Every agency route that takes a JSON body (cases, fines, publications, the webhook) refuses
the same things with the same problem details, so a client learns one set of rules:

- a ``Content-Type`` other than ``application/json`` (parameters such as ``charset`` ignored)
  → 415 ``unsupported_media_type``;
- more bytes than the route's limit → 413 ``payload_too_large``, noticed while streaming so an
  oversized body is never held whole in memory;
- bytes that are not UTF-8 JSON → 422 ``validation_failed`` with ``{"body": "invalid_json"}``;
- an object key with NUL, a lone surrogate or another character ``portal.fields`` refuses →
  422 with ``{"body": "invalid_character"}`` (no field reader sees keys, and echoing one in
  an answer was a 500). Values are the field readers' (``portal.fields``).

The token endpoint reads its form with the same ``media_type`` and ``read_capped`` but refuses
in OAuth's words (``web/api/token.py``). The limit stays with each route module (it depends on
what that route accepts); what the parsed value must look like is the route's business too.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from portal.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from portal.fields import refused_character


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters (``charset`` …)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The whole body, or ``PayloadTooLarge`` as soon as more than ``max_bytes`` have arrived."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge()
    return bytes(body)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request's JSON body, parsed; raises the refusals listed in the module docstring."""
    if media_type(request) != "application/json":
        raise UnsupportedMediaType()
    body = await read_capped(request, max_bytes)
    try:
        value = json.loads(body)
    except ValueError:  # not UTF-8 or not JSON
        raise ValidationFailed({"body": "invalid_json"}) from None
    if not _keys_readable(value):
        raise ValidationFailed({"body": "invalid_character"})
    return value


def _keys_readable(value: Any) -> bool:
    """Every object key, at any depth, is text ``portal.fields`` accepts."""
    if isinstance(value, dict):
        return all(refused_character(key) is None and _keys_readable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_keys_readable(item) for item in value)
    return True
