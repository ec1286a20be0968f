"""CPU inference time of a classifier in PyTorch and in each exported format, measured side by side.

    .venv/bin/python -m benchmarks.export_speed --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt

Exports the checkpoint to a temporary folder, then times rounds that alternate between the
runtimes (so machine load hits them alike) on raw uint8 batches of 1 and 1000 images, each runtime
on the same number of CPU threads (``--threads``, default 1), and prints the median milliseconds
per batch with the ratio to PyTorch eager.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from lightning_classics.inference.checkpoints import load_classifier
from lightning_classics.inference.export import SUFFIXES, export


def runners(network: torch.nn.Module, image_shape: tuple[int, ...], folder: Path, threads: int) -> dict[str, Callable]:
    import onnxruntime

    files = {fmt: export(network, image_shape, fmt, folder / f"model{suffix}") for fmt, suffix in SUFFIXES.items()}  # type: ignore[arg-type]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(files["onnx"]), options, providers=["CPUExecutionProvider"])
    program = torch.export.load(str(files["exported-program"])).module()
    return {
        "PyTorch eager": network,
        "exported-program": program,
        "ONNX Runtime": lambda images: session.run(None, {"images": images.numpy()})[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="classifier checkpoint")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per runtime and batch size")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every runtime alike")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_classifier(args.ckpt)
    shape = tuple(model.hparams.image_shape)
    with tempfile.TemporaryDirectory() as tmp:
        run = runners(model.raw_pixel_network(), shape, Path(tmp), args.threads)
        print(f"| model | batch | {' | '.join(run)} |")
        for batch in (1, 1000):
            images = torch.randint(0, 256, (batch, *shape), dtype=torch.uint8)
            times: dict[str, list[float]] = {name: [] for name in run}
            with torch.inference_mode():
                for name in run:  # warm-up
                    run[name](images)
                for _ in range(args.rounds):
                    for name, runner in run.items():
                        start = time.perf_counter()
                        runner(images)
                        times[name].append(1000 * (time.perf_counter() - start))
            eager = statistics.median(times["PyTorch eager"])
            cells = [f"{statistics.median(t):.2f} ms ({statistics.median(t) / eager:.2f}x)" for t in times.values()]
            print(f"| {type(model).__name__} | {batch} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
