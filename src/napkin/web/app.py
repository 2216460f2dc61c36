"""The FastAPI application: the API router, the static page, request limits and logging."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import NapkinError
from .api import router
from .guard import MAX_BODY_BYTES, RejectionLog, RequestGuard
from .resolve import FieldError

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")

logger = logging.getLogger("napkin.web")


def _field_name(loc: Iterable[Any]) -> str:
    """Return ``tokens`` or ``a.gpu`` for a pydantic location such as ``("body", "a", "gpu")``."""
    parts = [str(part) for part in loc if part != "body"]
    return ".".join(parts) or "body"


def _clean(message: str) -> str:
    # pydantic prefixes the message of a ValueError raised in a validator.
    return message.removeprefix("Value error, ")


def _error_response(request: Request, status: int, details: list[dict[str, Any]]) -> JSONResponse:
    first = details[0]
    line = f"{_field_name(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
    request.app.state.rejections(request.method, request.url.path, status, line)
    return JSONResponse({"error": line, "detail": details}, status_code=status)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    logger.info("napkin web %s started", __version__)
    yield
    logger.info("napkin web stopped")


def create_app(
    allowed_hosts: Iterable[str] | None = None, max_body_bytes: int = MAX_BODY_BYTES, rejections: RejectionLog | None = None
) -> FastAPI:
    """Build the app. When `allowed_hosts` is given, requests with any other Host header are
    rejected, which keeps a page on another site from reaching a loopback server through DNS rebinding."""
    app = FastAPI(
        title="napkin-ml",
        version=__version__,
        description="Napkin math for ML systems: each estimate of the napkin command line as a JSON endpoint.",
        lifespan=_lifespan,
        docs_url=None,  # the interactive docs load scripts from a CDN; the page works offline
        redoc_url=None,
    )
    app.state.rejections = rejections or RejectionLog()
    app.add_middleware(RequestGuard, rejections=app.state.rejections, max_body_bytes=max_body_bytes, allowed_hosts=allowed_hosts)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(item.get("loc", ())), "msg": _clean(str(item.get("msg", ""))), "type": str(item.get("type", ""))}
            for item in error.errors()
        ]
        return _error_response(request, 422, details or [{"loc": [], "msg": "invalid request", "type": "value_error"}])

    @app.exception_handler(FieldError)
    async def _invalid_field(request: Request, error: FieldError) -> JSONResponse:
        return _error_response(request, 422, [{"loc": list(error.loc), "msg": str(error), "type": "value_error"}])

    @app.exception_handler(NapkinError)
    async def _invalid_input(request: Request, error: NapkinError) -> JSONResponse:
        return _error_response(request, 422, [{"loc": ["body"], "msg": str(error), "type": "value_error"}])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return _error_response(request, error.status_code, [{"loc": [], "msg": str(error.detail), "type": "http"}])

    app.include_router(router)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app
