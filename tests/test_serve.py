"""`python -m lightning_classics.inference.serve`: the predict endpoint on real PNG bytes, refusals with 4xx, and the page itself."""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from PIL import Image

from lightning_classics.inference.serve import MAX_BODY_BYTES, LocalServer, load_models
from lightning_classics.inference.serve import main as serve_main
from tests.drawn_digits import draw_digit
from tests.helpers import ROOT
from tests.test_preprocess import png_bytes, png_with_short_header


@pytest.fixture(scope="module")
def server(drawn_cnn) -> Iterator[tuple[str, int]]:
    # port 0: any free port; a short body deadline so that the stalled-body test takes a second
    with LocalServer(load_models([str(drawn_cnn)]), port=0, body_timeout_s=1.0).in_background() as running:
        yield running.host, running.port


def request(server, method: str, path: str, body: bytes = b"", content_type: str | None = None, headers=None):
    connection = http.client.HTTPConnection(*server, timeout=30)
    all_headers = {"Content-Type": content_type} if content_type else {}
    connection.request(method, path, body=body, headers={**all_headers, **(headers or {})})
    response = connection.getresponse()
    status, payload = response.status, response.read()
    connection.close()
    return status, json.loads(payload) if response.getheader("Content-Type") == "application/json" else payload


def test_predicts_png_bytes_and_base64_json(server):
    picture = png_bytes(draw_digit(4, stroke=3))
    status, answer = request(server, "POST", "/predict", picture, "image/png")
    assert status == 200
    (result,) = answer["results"]
    assert result["model"] == "CNN" and result["prediction"] == "4"
    assert len(result["probabilities"]) == 10 and sum(result["probabilities"]) == pytest.approx(1, abs=1e-3)
    assert len(answer["input"]) == 28 and len(answer["input"][0]) == 28  # what the model saw

    data_url = "data:image/png;base64," + base64.b64encode(picture).decode()
    status, again = request(server, "POST", "/predict", json.dumps({"image": data_url}).encode(), "application/json")
    assert status == 200 and again["results"] == answer["results"]


def test_bad_requests_get_4xx_with_a_reason_and_the_server_keeps_serving(server):
    huge_picture = png_bytes(Image.new("L", (5000, 5000), 255))  # compresses to a few kB but decodes to 25 MP
    cases = [
        (b"hello, not a picture", "image/png", 400, "not a readable image"),
        (png_with_short_header(draw_digit(2)), "image/png", 400, "not a readable image (ValueError"),
        (huge_picture, "image/png", 413, "larger than"),
        (png_bytes(Image.new("RGB", (64, 64), "white")), "image/png", 422, "blank"),
        (b"1,2,3", "text/csv", 415, "send image/png"),
        (b'{"picture": 1}', "application/json", 400, '{"image":'),
    ]
    for body, content_type, expected_status, reason in cases:
        status, answer = request(server, "POST", "/predict", body, content_type)
        assert status == expected_status, answer
        assert reason in answer["error"] and "\n" not in answer["error"]

    # A body announced as larger than accepted is refused before it is read.
    connection = http.client.HTTPConnection(*server, timeout=30)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Type", "image/png")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "over the" in json.loads(response.read())["error"]
    connection.close()

    assert request(server, "GET", "/nowhere")[0] == 404
    status, answer = request(server, "POST", "/predict", png_bytes(draw_digit(7)), "image/png")
    assert status == 200 and answer["results"][0]["prediction"] == "7"  # still serving


def test_page_and_model_list(server):
    status, page = request(server, "GET", "/")
    assert status == 200 and b"<canvas" in page and b"/predict" in page
    status, models = request(server, "GET", "/models")
    assert status == 200 and [m["name"] for m in models["models"]] == ["CNN"]


@pytest.mark.slow  # a second Python that loads torch and the model
def test_the_command_serves_until_ctrl_c(drawn_cnn):
    """``python -m lightning_classics.inference.serve --ckpt ... --port 0`` as a user starts it: it names its address, answers a PNG
    and ends cleanly (exit status 0) on Ctrl+C."""
    command = [sys.executable, "-m", "lightning_classics.inference.serve", "--ckpt", str(drawn_cnn), "--port", "0"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The first line says where it listens, once the model is loaded and the port is open.
        first_line = process.stdout.readline() if process.stdout else ""
        match = re.fullmatch(r"Serving CNN at http://127\.0\.0\.1:(\d+)/ \(Ctrl\+C stops\)\n", first_line)
        assert match, f"unexpected first line {first_line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        address = ("127.0.0.1", int(match.group(1)))
        status, answer = request(address, "POST", "/predict", png_bytes(draw_digit(3, stroke=3)), "image/png")
        assert status == 200 and answer["results"][0]["model"] == "CNN" and answer["results"][0]["prediction"] == "3"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with pytest.raises(ConnectionRefusedError):  # the port is closed again
        socket.create_connection(address, timeout=5).close()


def test_a_stalled_body_times_out_while_other_requests_are_answered(server):
    stalled = []
    for _ in range(20):  # each would have held one of http.server's threads for good
        connection = socket.create_connection(server, timeout=30)
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n"
        )
        connection.sendall(b"\x89PNG")  # 4 of the 1000 bytes announced, then nothing
        stalled.append(connection)
    started = time.monotonic()
    status, answer = request(server, "POST", "/predict", png_bytes(draw_digit(7)), "image/png")
    assert status == 200 and answer["results"][0]["prediction"] == "7"
    assert time.monotonic() - started < 1.0  # not queued behind the stalled ones
    for connection in stalled:
        reply = b""
        while chunk := connection.recv(4096):  # the server closes the connection after its answer
            reply += chunk
        connection.close()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), reply
        assert "did not arrive within 1 s" in json.loads(body)["error"]
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "error: --port 99999 is not a port: pass 1-65535 (or 0 for any free port)"),
        (["--port", "eighty"], "error: argument --port: invalid int value: 'eighty' (see --help)"),
        ([], "error: the following arguments are required: --ckpt (see --help)"),
    ],
)
def test_bad_command_lines_end_in_one_line(drawn_cnn, args, message, capsys):
    ckpt = ["--ckpt", str(drawn_cnn)] if args else []
    with pytest.raises(SystemExit) as exit_:
        serve_main([*ckpt, *args])
    assert exit_.value.code == message
    assert "usage:" not in capsys.readouterr().err  # no argparse usage block


def test_a_port_in_use_is_one_line(drawn_cnn, server):
    with pytest.raises(SystemExit) as exit_:
        serve_main(["--ckpt", str(drawn_cnn), "--port", str(server[1])])
    assert str(exit_.value.code).startswith(f"error: cannot listen on 127.0.0.1:{server[1]} (Address already in use)")
