"""Serve classifier checkpoints to a drawing page: ``python -m lightning_classics.inference.serve --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt``.

Open http://127.0.0.1:8000, draw a digit with the mouse or a finger, and watch each model's
prediction and its ten probabilities change as you draw. Several ``--ckpt`` (e.g. the ANN, CNN and
LSTM) are shown side by side.

Endpoints: ``GET /`` the page, ``GET /models`` the models' names, ``POST /predict`` with a PNG/JPEG
body (``Content-Type: image/png``) or JSON ``{"image": "<base64 PNG, data: URL allowed>"}``; the
answer is JSON: each model's prediction and probabilities, and the 28x28 image the models saw.

FastAPI on uvicorn serves it (lightning_classics/inference/web_app.py): an event loop holds hundreds of open connections
for the price of a socket each, with a listen backlog of 2048, a request body size limit, a deadline for
bodies that stall and an idle timeout for kept-alive connections. LitServe (also on uvicorn) was not
chosen: its batching and worker processes suit heavy models; these answer in milliseconds on one core,
and the drawing page and its one-line JSON errors are routes of their own that LitServe would wrap anyway.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import torch
import uvicorn
from torch import nn

from lightning_classics.images import ImageInputError, preprocess
from lightning_classics.inference.checkpoints import NotAClassifierError, load_classifier
from lightning_classics.inference.web_app import RequestError, create_app
from lightning_classics.runs.command_line import run_command
from lightning_classics.runs.errors import UserError

MAX_BODY_BYTES = 8 * 1024 * 1024  # a drawing is a few kB; a big photo is a few MB
BODY_TIMEOUT_S = 10.0  # a request body that has not fully arrived by then gets 408 and its connection is closed
KEEP_ALIVE_S = 5.0  # an idle kept-alive connection is closed after this (the page sends a request per stroke)
BACKLOG = 2048  # connections the kernel queues before the server accepts them (http.server's was 5)


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


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: any free port) and listening, or one line that says why not."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port: pass 1-65535 (or 0 for any free port)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.socket(family, socket.SOCK_STREAM)
    except OSError as err:
        raise UserError(f"--host {host} is not an address of this machine ({err}): pass e.g. 127.0.0.1") from err
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after Ctrl+C
        listener.bind((host, port))
        listener.listen(BACKLOG)
    except OSError as err:
        listener.close()
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror or err}): pick another --port") from err
    return listener


class LocalServer:
    """The application on uvicorn, bound to its socket: ``run()`` serves until Ctrl+C, ``in_background()`` in a
    thread (tests, benchmarks)."""

    def __init__(
        self,
        models: list[ServedModel],
        host: str = "127.0.0.1",
        port: int = 8000,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout_s: float = BODY_TIMEOUT_S,
        keep_alive_s: float = KEEP_ALIVE_S,
    ) -> None:
        """
        Args:
            models: The models every prediction runs.
            host: Address to listen on.
            port: Port to listen on; 0 picks a free one (see ``port``).
            max_body_bytes: Largest request body accepted (413 beyond it).
            body_timeout_s: Seconds a request body may take to arrive (408 and the connection closed after it).
            keep_alive_s: Seconds an idle kept-alive connection stays open.
        """
        names = [{"name": m.name, "checkpoint": m.checkpoint} for m in models]
        app = create_app(Predictor(models), names, max_body_bytes, body_timeout_s)
        self.socket = listening_socket(host, port)
        self.host, self.port = host, self.socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            http="h11",
            lifespan="off",
            log_level="warning",  # uvicorn's own start-up lines and a line per request would flood the terminal
            access_log=False,
            backlog=BACKLOG,
            timeout_keep_alive=int(max(1, keep_alive_s)),
            timeout_graceful_shutdown=5,  # Ctrl+C does not wait for stalled clients longer than this
        )
        self.server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def run(self) -> None:
        """Serve until Ctrl+C (or ``should_exit``); uvicorn handles the signal and closes connections first."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    @contextmanager
    def in_background(self, start_timeout_s: float = 30.0) -> Iterator[LocalServer]:
        """Serve from a thread for the ``with`` block; the server is accepting requests when the block starts."""
        thread = threading.Thread(target=self.run, name="uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + start_timeout_s
        while not self.server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            self.server.should_exit = True
            raise RuntimeError(f"the server did not start within {start_timeout_s:g} s")
        try:
            yield self
        finally:
            self.server.should_exit = True
            thread.join(timeout=30)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as the project's one-line ``error: ...`` instead of a usage block."""

    def error(self, message: str) -> Any:
        raise UserError(f"{message} (see --help)")


def serve(argv: list[str] | None) -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ckpt", nargs="+", required=True, help="classifier checkpoint(s), e.g. the ANN, CNN and LSTM")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on, 1-65535 (0: any free port)")
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT_S,
        help="seconds a request body may take to arrive (408 after)",
    )
    args = parser.parse_args(argv)
    if not args.body_timeout > 0:
        raise UserError(f"--body-timeout {args.body_timeout} must be a positive number of seconds")
    try:
        models = load_models(args.ckpt)
    except NotAClassifierError as err:
        raise UserError(str(err)) from err
    server = LocalServer(models, args.host, args.port, body_timeout_s=args.body_timeout)
    print(f"Serving {', '.join(m.name for m in models)} at {server.url} (Ctrl+C stops)", flush=True)
    with suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl+C it handled once the server has shut down
        server.run()


def main(argv: list[str] | None = None) -> None:
    run_command(serve, argv)


if __name__ == "__main__":
    main()
