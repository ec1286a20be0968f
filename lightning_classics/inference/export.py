"""Export a classifier checkpoint to one self-contained file that takes raw uint8 pixels.

python -m lightning_classics.inference.export --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt --format onnx
python -m lightning_classics.inference.export --ckpt ... --format exported-program     # torch.export, load with torch.export.load
python -m lightning_classics.inference.export --ckpt ... --format torchscript          # legacy: for libtorch / older PyTorch

Every format takes a (batch, 1, 28, 28) uint8 tensor of raw pixels (white digit on black, as
``lightning_classics.images`` makes them), any batch size, and returns (batch, 10) logits: the
normalisation is inside the file.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from lightning_classics.inference.checkpoints import load_classifier
from lightning_classics.runs.command_line import run_command
from lightning_classics.runs.errors import UserError
from lightning_classics.runs.one_line_parser import OneLineArgumentParser

Format = Literal["onnx", "exported-program", "torchscript"]
SUFFIXES: dict[str, str] = {"onnx": ".onnx", "exported-program": ".pt2", "torchscript": ".torchscript.pt"}


def example_images(image_shape: tuple[int, ...], batch: int = 2) -> torch.Tensor:
    """Raw uint8 images to trace with (a batch of 2, so the batch dimension is not specialised to 1)."""
    return torch.randint(0, 256, (batch, *image_shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def export(network: nn.Module, image_shape: tuple[int, ...], fmt: Format, out: Path) -> Path:
    """Write ``network`` (raw uint8 images -> logits) to ``out`` in ``fmt``; the file appears only when complete."""
    network = network.eval()
    example = example_images(image_shape)
    batch = torch.export.Dim("batch", min=1, max=4096)
    partial = out.with_name(f"{out.stem}.partial{out.suffix}")  # torch.export.save wants .pt2 at the end
    with warnings.catch_warnings():
        # torch-internal notes from tracing (its own deprecated size checks, nn.LSTM's flat weights); not ours to fix.
        warnings.filterwarnings("ignore", message=r"_check_is_size will be removed", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r"The tensor attributes .*_flat_weights", category=UserWarning)
        try:
            if fmt == "onnx":
                # dynamo-based exporter (torch 2.14's default); external_data=False keeps the weights in the one file.
                program = torch.onnx.export(
                    network,
                    (example,),
                    dynamic_shapes=({0: batch},),
                    input_names=["images"],
                    output_names=["logits"],
                    external_data=False,
                    dynamo=True,
                    verbose=False,
                )
                assert program is not None  # dynamo=True always returns the program
                program.save(str(partial), external_data=False)
            elif fmt == "exported-program":
                # the CNN's weights are channels-last (NHWC strides), which torch.export's weight packing takes for
                # slices of some larger tensor ("No complete tensor found"): a file of plain NCHW copies, same values
                plain = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
                torch.export.save(torch.export.export(plain, (example,), dynamic_shapes=({0: batch},)), partial)
            elif fmt == "torchscript":
                # torch 2.14 deprecates tracing, but TorchScript is still what libtorch's torch::jit::load
                # and PyTorch < 2.1 read; the warning says nothing the README does not.
                warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace", category=FutureWarning)
                torch.jit.trace(network, example).save(str(partial))
            else:
                raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(SUFFIXES)}")
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    return out


def output_path(out: str | None, ckpt: str, fmt: str) -> Path:
    """Where to write: ``out``, or the checkpoint's name with the format's suffix; its folder is created."""
    path = Path(out) if out else Path(ckpt).with_suffix(SUFFIXES[fmt])
    if path.is_dir():
        raise UserError(f"--out {path} is a folder: pass a file name, e.g. {path / ('model' + SUFFIXES[fmt])}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the folder of --out {path} ({err.strerror}): pass a writable path") from err
    return path


def main(argv: list[str] | None = None) -> Path:
    """``python -m lightning_classics.inference.export``: bad input ends in one line (``error: ...``); ``--debug`` shows the traceback."""
    return run_command(_export_command, argv)


def _export_command(argv: list[str] | None) -> Path:
    parser = OneLineArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="classifier checkpoint written by `cli.py fit`")
    parser.add_argument("--format", required=True, choices=list(SUFFIXES), help="file format to write")
    parser.add_argument("--out", default=None, help="output file (default: next to the checkpoint, e.g. best.onnx)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    model = load_classifier(args.ckpt)
    out = output_path(args.out, args.ckpt, args.format)
    try:
        export(model.raw_pixel_network(), tuple(model.hparams.image_shape), args.format, out)
    except OSError as err:  # a read-only filesystem, a full disk, no permission
        raise UserError(f"cannot write --out {out} ({err.strerror or err}): pass a writable path") from err
    print(f"Wrote {out} ({args.format}, {out.stat().st_size / 1e6:.1f} MB): uint8 images (N, 1, 28, 28) -> logits")
    return out


if __name__ == "__main__":
    main()
