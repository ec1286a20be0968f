"""Read and write IDX files, the format of the MNIST family (optionally gzipped)."""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import torch

_UBYTE = 0x08


class IDXFormatError(ValueError):
    """A file is not a well-formed unsigned-byte IDX file."""


def read_idx(path: str | Path) -> torch.Tensor:
    """Decode an unsigned-byte IDX file (``.gz`` or raw) into a uint8 tensor of its stored shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:  # gzip raises BadGzipFile (an OSError) or EOFError when truncated
        raise IDXFormatError(f"{path}: cannot be read ({err})") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE:
        raise IDXFormatError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXFormatError(f"{path}: header truncated")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    payload = memoryview(data)[header_len:]
    if len(payload) != math.prod(shape):
        raise IDXFormatError(f"{path}: expected {math.prod(shape)} bytes for shape {shape}, found {len(payload)}")
    # bytearray: torch.frombuffer needs a writable buffer to hand out a writable tensor.
    return torch.frombuffer(bytearray(payload), dtype=torch.uint8).reshape(shape)


def write_idx(path: str | Path, tensor: torch.Tensor) -> Path:
    """Write a uint8 tensor as an IDX file; gzipped when ``path`` ends in ``.gz``."""
    path = Path(path)
    tensor = tensor.to(torch.uint8).contiguous()
    header = bytes([0, 0, _UBYTE, tensor.dim()]) + struct.pack(f">{tensor.dim()}I", *tensor.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + tensor.numpy().tobytes())
    return path
