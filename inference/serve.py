"""Serve classifier checkpoints to a drawing page: ``python -m inference.serve --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt``.

Open http://127.0.0.1:8000, draw a digit with the mouse or a finger, and watch each model's
prediction and its ten probabilities change as you draw. Several ``--ckpt`` (e.g. the ANN, CNN and
LSTM) are shown side by side.

Endpoints: ``GET /`` the page, ``GET /models`` the models' names, ``POST /predict`` with a PNG/JPEG
body (``Content-Type: image/png``) or JSON ``{"image": "<base64 PNG, data: URL allowed>"}``; the
answer is JSON: each model's prediction and probabilities, and the 28x28 image the models saw.

Python's own ``http.server`` (threaded) serves it: one page and one endpoint on the local machine
need no web framework, and each prediction takes milliseconds on the CPU, so a batching server
such as LitServe (FastAPI, uvicorn, worker processes) would add dependencies without adding speed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inference.checkpoints import NotAClassifierError, load_classifier
from inference.preprocess import ImageInputError, preprocess

MAX_BODY_BYTES = 8 * 1024 * 1024  # a drawing is a few kB; a big photo is a few MB
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp")


class RequestError(Exception):
    """A request the server refuses, with the HTTP status and a message that says how to fix it."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ServedModel:
    name: str
    checkpoint: str
    network: nn.Module  # raw uint8 images (B, 1, 28, 28) -> logits
    class_names: list[str]


def load_models(checkpoints: list[str]) -> list[ServedModel]:
    models: list[ServedModel] = []
    for path in checkpoints:
        classifier = load_classifier(path)
        name = type(classifier).__name__
        if any(m.name == name for m in models):  # two CNNs: tell them apart by their run folder
            name = f"{name} ({Path(path).parent.parent.name})"
        classes = [str(c) for c in range(classifier.hparams.num_classes)]
        models.append(ServedModel(name, str(path), classifier.raw_pixel_network(), classes))
    return models


class Predictor:
    """Preprocesses a picture once and runs every model on it."""

    def __init__(self, models: list[ServedModel]) -> None:
        self.models = models
        self.lock = threading.Lock()  # one prediction at a time: torch already uses every core for each

    def __call__(self, picture: bytes) -> dict[str, Any]:
        try:
            image = preprocess(picture)
        except ImageInputError as err:
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE if "larger than" in str(err) else HTTPStatus.BAD_REQUEST
            if "blank" in str(err):
                status = HTTPStatus.UNPROCESSABLE_ENTITY
            raise RequestError(status, str(err)) from err
        batch = image[None, None]  # (28, 28) -> (1, 1, 28, 28)
        results = []
        with self.lock, torch.inference_mode():
            for model in self.models:
                probabilities = model.network(batch).softmax(dim=-1)[0]
                results.append(
                    {
                        "model": model.name,
                        "prediction": model.class_names[int(probabilities.argmax())],
                        "probabilities": [round(p, 5) for p in probabilities.tolist()],
                    }
                )
        return {"results": results, "input": image.tolist()}


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


def make_handler(predictor: Predictor) -> type[BaseHTTPRequestHandler]:
    page = files("inference").joinpath("drawing_page.html").read_bytes()
    names = json.dumps({"models": [{"name": m.name, "checkpoint": m.checkpoint} for m in predictor.models]})

    class Handler(BaseHTTPRequestHandler):
        server_version = "lightning-classics"
        protocol_version = "HTTP/1.1"  # keep-alive: the page sends many small requests while one draws

        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                self.reply(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif self.path == "/models":
                self.reply(HTTPStatus.OK, names.encode(), "application/json")
            else:
                self.error(
                    RequestError(HTTPStatus.NOT_FOUND, f"no page {self.path}: the page is /, predictions POST /predict")
                )

        def do_POST(self) -> None:
            try:
                if self.path != "/predict":
                    raise RequestError(HTTPStatus.NOT_FOUND, f"no endpoint {self.path}: POST pictures to /predict")
                body = self.read_body()
                result = predictor(picture_from_request(self.headers.get("Content-Type", ""), body))
                self.reply(HTTPStatus.OK, json.dumps(result).encode(), "application/json")
            except RequestError as err:
                self.error(err)

        def read_body(self) -> bytes:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.close_connection = True
                raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send the picture with a Content-Length header")
            if int(length) > MAX_BODY_BYTES:
                self.close_connection = True  # the unread body must not be taken for the next request
                raise RequestError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"body of {int(length):,} bytes is over the {MAX_BODY_BYTES:,} accepted: send a smaller picture",
                )
            return self.rfile.read(int(length))

        def error(self, err: RequestError) -> None:
            self.reply(err.status, json.dumps({"error": str(err)}).encode(), "application/json")

        def reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request while drawing would flood the terminal

    return Handler


def make_server(models: list[ServedModel], host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server ready to ``serve_forever()``; port 0 picks a free port (``server.server_address``)."""
    server = ThreadingHTTPServer((host, port), make_handler(Predictor(models)))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", nargs="+", required=True, help="classifier checkpoint(s), e.g. the ANN, CNN and LSTM")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    args = parser.parse_args(argv)
    try:
        models = load_models(args.ckpt)
        server = make_server(models, args.host, args.port)
    except (NotAClassifierError, OSError) as err:
        raise SystemExit(f"error: {err}") from None
    port = server.server_address[1]
    print(f"Serving {', '.join(m.name for m in models)} at http://{args.host}:{port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
