"""A bounded load test of ``python -m lightning_classics.inference.serve`` on 127.0.0.1; it stops by itself.

    .venv/bin/python -m benchmarks.serve_load                    # a tiny CNN checkpoint made on the spot
    .venv/bin/python -m benchmarks.serve_load --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt

Starts the server as a user does (its own process, a free port), then:
1. ``--concurrent`` requests at once, each on its own connection: all must be answered (200), p50/p99 latency;
2. ``--stalled`` request bodies that stop after 4 bytes: each must get 408 within the body timeout (plus slack),
   while a normal request sent during the stall is answered at once;
3. ``--requests`` requests over 8 kept-alive connections, the server's RSS sampled every tenth of them: it must stay
   flat (growth over the last 80% under ``--max-growth-mib``).
Every wait has a deadline, and ``--time-limit`` bounds the whole run. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from benchmarks.steady_memory import rss_mib
from datamodules.idx import write_idx
from datamodules.mnist_files import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def picture() -> bytes:
    """A PNG of a hand-drawn-like seven, as the drawing page sends it."""
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (210, 60), (120, 230)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tiny_checkpoint(folder: Path) -> Path:
    """A CNN checkpoint written by ``cli.py fit`` after one step on random digits: serving cost, not accuracy."""
    data = folder / "data"
    data.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    for images_name, labels_name, count in ((TRAIN_IMAGES, TRAIN_LABELS, 120), (TEST_IMAGES, TEST_LABELS, 20)):
        write_idx(data / images_name, torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator))
        write_idx(data / labels_name, torch.randint(0, 10, (count,), dtype=torch.uint8, generator=generator))
    command = [sys.executable, "cli.py", "fit", "--config", "configs/mnist_cnn.yaml", "--runs_dir", str(folder)]
    command += ["--data.data_dir", str(data), "--data.val_size", "20", "--data.batch_size", "50"]
    command += [
        "--trainer.max_epochs",
        "1",
        "--trainer.limit_train_batches",
        "1",
        "--trainer.enable_progress_bar",
        "false",
    ]
    subprocess.run(command, cwd=ROOT, check=True, timeout=300, capture_output=True)
    return next(folder.glob("mnist_cnn/version_0/checkpoints/*.ckpt"))


def start_server(ckpt: Path, body_timeout_s: float, timeout_s: float = 120) -> tuple[subprocess.Popen, int]:
    """The server's process and port, once its first line says it is listening."""
    command = [sys.executable, "-m", "lightning_classics.inference.serve", "--ckpt", str(ckpt), "--port", "0"]
    command += ["--body-timeout", str(body_timeout_s)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([process.stdout] if process.stdout else [], [], [], timeout_s)
    line = process.stdout.readline() if ready and process.stdout else ""
    if ":" not in line:
        process.kill()
        raise RuntimeError(f"the server did not start within {timeout_s:g} s (first line {line!r})")
    return process, int(line.rsplit(":", 1)[1].split("/")[0])


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on an open connection and read its whole answer; the answer's status."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length")]
    if not lengths:
        raise ValueError(f"an answer without Content-Length: {head!r}")
    await reader.readexactly(lengths[0])
    return int(head.split(b" ")[1])


def post(body: bytes) -> bytes:
    head = f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: image/png\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def one_request(port: int, request: bytes, start: asyncio.Event) -> tuple[int, float]:
    """Connect, wait for the common start, then time one request: (status or 0 for no answer, seconds)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    await start.wait()
    began = time.perf_counter()
    try:
        status = await exchange(reader, writer, request)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status = 0
    writer.close()
    return status, time.perf_counter() - began


async def concurrent_requests(port: int, count: int, body: bytes) -> dict[str, float]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(one_request(port, post(body), start)) for _ in range(count)]
    await asyncio.sleep(0.5)  # let every connection open first, so that they all send together
    start.set()
    results = await asyncio.gather(*tasks)
    latencies = sorted(seconds for _, seconds in results)
    return {
        "answered_200": sum(status == 200 for status, _ in results),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


async def stalled_bodies(port: int, count: int, body: bytes, body_timeout_s: float) -> dict[str, float]:
    async def stall() -> tuple[bool, float]:
        reader, writer = await asyncio.open_connection(HOST, port)
        began = time.perf_counter()
        request = post(b"x" * 1000)
        writer.write(request[: len(request) - 996])  # the headers and 4 of the 1000 bytes announced, then nothing
        await writer.drain()
        answer = await reader.read()  # until the server closes the connection
        writer.close()
        return answer.startswith(b"HTTP/1.1 408 "), time.perf_counter() - began

    stalls = [asyncio.create_task(stall()) for _ in range(count)]
    await asyncio.sleep(0.5)
    now = asyncio.Event()
    now.set()
    status, seconds = await one_request(port, post(body), now)
    results = await asyncio.gather(*stalls)
    return {
        "timed_out_408": sum(ok for ok, _ in results),
        "slowest_408_s": max(s for _, s in results),
        "request_during_stall_ms": 1000 * seconds if status == 200 else float("nan"),
        "body_timeout_s": body_timeout_s,
    }


async def steady_memory(port: int, pid: int, count: int, body: bytes, samples: int = 10) -> dict[str, float]:
    """``count`` requests over 8 kept-alive connections; the server's RSS after each tenth of them."""
    rss: list[float] = []
    done = 0
    connections = [await asyncio.open_connection(HOST, port) for _ in range(8)]
    began = time.perf_counter()
    for sample in range(samples):
        target = count * (sample + 1) // samples
        while done < target:
            batch = min(len(connections), target - done)
            statuses = await asyncio.gather(*(exchange(r, w, post(body)) for r, w in connections[:batch]))
            if any(status != 200 for status in statuses):
                raise RuntimeError(f"a request of the memory run was answered {statuses}")
            done += batch
        rss.append(rss_mib(pid) or float("nan"))
    seconds = time.perf_counter() - began
    for _, writer in connections:
        writer.close()
    settled = rss[max(1, samples // 5) - 1]  # after the first fifth: imports, pools and caches are warm
    return {
        "requests": count,
        "requests_per_s": count / seconds,
        "rss_first_mib": rss[0],
        "rss_at_20pct_mib": settled,
        "rss_last_mib": rss[-1],
        "growth_last_80pct_mib": rss[-1] - settled,
    }


async def measure(args: argparse.Namespace, port: int, pid: int) -> dict[str, dict[str, float]]:
    body = picture()
    return {
        "concurrent": await concurrent_requests(port, args.concurrent, body),
        "stalled": await stalled_bodies(port, args.stalled, body, args.body_timeout),
        "memory": await steady_memory(port, pid, args.requests, body),
    }


def failures(results: dict[str, dict[str, float]], args: argparse.Namespace) -> list[str]:
    problems = []
    if results["concurrent"]["answered_200"] != args.concurrent:
        problems.append(f"only {results['concurrent']['answered_200']:.0f} of {args.concurrent} concurrent answered")
    if results["stalled"]["timed_out_408"] != args.stalled:
        problems.append(f"only {results['stalled']['timed_out_408']:.0f} of {args.stalled} stalled bodies got 408")
    if results["stalled"]["slowest_408_s"] > args.body_timeout + 5:
        problems.append(f"a stalled body held its connection {results['stalled']['slowest_408_s']:.1f} s")
    if not results["stalled"]["request_during_stall_ms"] < 1000 * args.body_timeout:
        problems.append("the request sent during the stall waited for the stalled bodies")
    if results["memory"]["growth_last_80pct_mib"] > args.max_growth_mib:
        problems.append(f"RSS grew {results['memory']['growth_last_80pct_mib']:.1f} MiB over the last 80% of requests")
    return problems


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Start the server, measure within ``args.time_limit`` seconds, stop the server; the figures."""
    with tempfile.TemporaryDirectory(prefix="serve-load-") as work:
        ckpt = Path(args.ckpt) if args.ckpt else tiny_checkpoint(Path(work))
        process, port = start_server(ckpt, args.body_timeout)
        try:
            return asyncio.run(asyncio.wait_for(measure(args, port, process.pid), args.time_limit))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ckpt", help="classifier checkpoint to serve (default: a tiny CNN made for the run)")
    parser.add_argument("--concurrent", type=int, default=200, help="requests sent at once, one connection each")
    parser.add_argument("--stalled", type=int, default=150, help="request bodies that stall after 4 bytes")
    parser.add_argument("--body-timeout", type=float, default=5.0, help="the server's --body-timeout, seconds")
    parser.add_argument("--requests", type=int, default=10_000, help="requests of the memory run")
    parser.add_argument("--max-growth-mib", type=float, default=10.0, help="RSS growth allowed over the last 80%%")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for all measurements together")
    return parser


def main() -> None:
    args = parser().parse_args()
    results = run(args)
    for section, figures in results.items():
        print(f"{section}: " + ", ".join(f"{name} {value:.4g}" for name, value in figures.items()))
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    problems = failures(results, args)
    for problem in problems:
        print(f"FAILED: {problem}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
