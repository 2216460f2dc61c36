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
from .guard import HEAD_SCOPE_KEY, MAX_BODY_BYTES, RejectionLog, RequestGuard
from .problems import api_spelling, error_payload, reword
from .resolve import FieldError

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")

logger = logging.getLogger("napkin.web")


def _error_response(
    request: Request, status: int, details: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> JSONResponse:
    payload = error_payload(details)
    request.app.state.rejections(_method(request), request.url.path, status, payload["error"])
    return JSONResponse(payload, status_code=status, headers=headers)


def _method(request: Request) -> str:
    """Return the request's method as the client sent it, HEAD included (the guard passes HEAD on as GET)."""
    return "HEAD" if request.scope.get(HEAD_SCOPE_KEY) else request.method


def _http_error_detail(request: Request, status: int, message: str) -> tuple[int, dict[str, Any], dict[str, str] | None]:
    """Return the status, detail and headers of an HTTP error: an unknown path, a method the path does not take, or an unreadable body."""
    path = request.url.path
    method = _method(request)
    documented = request.app.openapi()["paths"].get(path)
    if status in (404, 405) and documented:
        allowed = sorted(name.upper() for name in documented)
        if "GET" in allowed:
            allowed.append("HEAD")
        if method not in allowed:
            message = f"{method} is not allowed on {path}: use {' or '.join(allowed)}"
            return 405, {"loc": ["method"], "msg": message, "type": "method_not_allowed"}, {"Allow": ", ".join(allowed)}
    if status == 404:
        message = f"no endpoint or file at {path}: the API's endpoints are listed in /openapi.json"
        return 404, {"loc": ["path"], "msg": message, "type": "not_found"}, None
    if status == 405:
        message = f"{method} is not allowed on {path}: use GET or HEAD"
        return 405, {"loc": ["method"], "msg": message, "type": "method_not_allowed"}, {"Allow": "GET, HEAD"}
    # The remaining HTTP errors come from reading the request body (FastAPI's 400 for a body it could not read).
    return status, {"loc": ["body"], "msg": message, "type": "http"}, None


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
        details = [reword(request, item, error.body) for item in error.errors()]
        return _error_response(request, 422, details or [{"loc": ["body"], "msg": "invalid request", "type": "value_error"}])

    @app.exception_handler(FieldError)
    async def _invalid_field(request: Request, error: FieldError) -> JSONResponse:
        return _error_response(request, 422, [{"loc": list(error.loc), "msg": api_spelling(str(error)), "type": "value_error"}])

    @app.exception_handler(NapkinError)
    async def _invalid_input(request: Request, error: NapkinError) -> JSONResponse:
        return _error_response(request, 422, [{"loc": ["body"], "msg": api_spelling(str(error)), "type": "value_error"}])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        status, detail, headers = _http_error_detail(request, error.status_code, str(error.detail))
        return _error_response(request, status, [detail], {**(error.headers or {}), **(headers or {})})

    app.include_router(router)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app
