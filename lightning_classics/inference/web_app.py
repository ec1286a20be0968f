"""The drawing page's web application (FastAPI): the page, the model list and the predict endpoint.

Every refusal is JSON ``{"error": "<one line>"}`` with a 4xx status. A request body is read with a size
limit and a deadline, so a body that is too large or never arrives costs one timer, not a worker.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from http import HTTPStatus
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp")
NO_CACHE = {"Cache-Control": "no-store"}  # predictions and the page change with the served checkpoints


class RequestError(Exception):
    """A request the server refuses, with the HTTP status and a message that says how to fix it."""

    def __init__(self, status: HTTPStatus, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close  # the body was not read to its end: the connection cannot carry another request


def error_reply(status: int, message: str, close: bool = False) -> JSONResponse:
    headers = {**NO_CACHE, "Connection": "close"} if close else NO_CACHE
    return JSONResponse({"error": " ".join(message.split())}, status_code=status, headers=headers)


async def read_body(request: Request, max_bytes: int, timeout_s: float) -> bytes:
    """The whole body, or a 413 as soon as it is known to be too large, or a 408 once ``timeout_s`` has passed."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body of {int(length):,} bytes is over the {max_bytes:,} accepted: send a smaller picture",
            close=True,
        )
    chunks: list[bytes] = []

    async def collect() -> None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:  # a chunked body has no Content-Length to check up front
                raise RequestError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"body is over the {max_bytes:,} bytes accepted: send a smaller picture",
                    close=True,
                )
            chunks.append(chunk)

    try:
        await asyncio.wait_for(collect(), timeout_s)
    except TimeoutError as err:
        raise RequestError(
            HTTPStatus.REQUEST_TIMEOUT,
            f"the body did not arrive within {timeout_s:g} s: send the picture in one request without pausing",
            close=True,
        ) from err
    return b"".join(chunks)


def picture_from_request(content_type: str, body: bytes) -> bytes:
    """The encoded picture in a request body: raw image bytes, or JSON with a base64 ``image``."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in IMAGE_TYPES:
        return body
    if kind == "application/json":
        try:
            payload = json.loads(body)
            encoded = payload["image"]
            if not isinstance(encoded, str):
                raise TypeError
            if encoded.startswith("data:"):
                encoded = encoded.partition(",")[2]
            return base64.b64decode(encoded, validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as err:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, 'JSON body must be {"image": "<base64-encoded PNG or JPEG>"}'
            ) from err
    raise RequestError(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        f"Content-Type {kind or '(none)'} not accepted: send image/png or image/jpeg bytes, or application/json",
    )


def create_app(
    predict: Callable[[bytes], dict[str, Any]],
    models: list[dict[str, str]],
    max_body_bytes: int,
    body_timeout_s: float,
) -> FastAPI:
    """The application.

    Args:
        predict: Encoded picture -> the JSON answer; raises ``RequestError`` for pictures it refuses.
        models: Name and checkpoint of each served model, for ``GET /models``.
        max_body_bytes: Largest request body accepted (413 beyond it).
        body_timeout_s: Seconds a request body may take to arrive (408 after it).
    """
    page = files("lightning_classics.inference").joinpath("drawing_page.html").read_text(encoding="utf-8")
    # No generated API docs: the surface is the page and the two endpoints below.
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RequestError)
    async def refused(request: Request, err: RequestError) -> Response:
        return error_reply(err.status, str(err), err.close)

    @app.exception_handler(HTTPException)
    async def not_here(request: Request, err: HTTPException) -> Response:
        if err.status_code == HTTPStatus.NOT_FOUND:
            return error_reply(404, f"no page {request.url.path}: the page is /, predictions POST /predict")
        if err.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            return error_reply(
                405, f"{request.method} {request.url.path} is not served: GET / or /models, POST /predict"
            )
        return error_reply(err.status_code, str(err.detail))

    @app.get("/", response_class=HTMLResponse)
    @app.get("/index.html", response_class=HTMLResponse)
    async def drawing_page() -> HTMLResponse:
        return HTMLResponse(page, headers=NO_CACHE)

    @app.get("/models")
    async def model_list() -> JSONResponse:
        return JSONResponse({"models": models}, headers=NO_CACHE)

    @app.post("/predict")
    async def predict_picture(request: Request) -> JSONResponse:
        body = await read_body(request, max_body_bytes, body_timeout_s)
        picture = picture_from_request(request.headers.get("content-type", ""), body)
        # Decoding and the models run in a worker thread: the event loop keeps accepting and reading meanwhile.
        return JSONResponse(await run_in_threadpool(predict, picture), headers=NO_CACHE)

    return app
