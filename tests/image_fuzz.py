"""A seeded corpus of damaged pictures: small valid PNG, BMP, GIF, TIFF, JPEG and WebP files, mutated.

Mutations are the ones that reach deep into a decoder: bit flips, truncations, boundary values written
over header fields, inserted and deleted byte runs, and PNG chunk edits whose CRC is recomputed so that the
damaged chunk is parsed instead of being refused at its checksum.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable, Iterator

from PIL import Image

from tests.drawn_digits import draw_digit

BOUNDARY_VALUES = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def seed_files() -> dict[str, bytes]:
    """Valid small pictures of a digit, one per format and mode worth decoding differently."""
    rgb = draw_digit(5, canvas=(24, 24), height=18)
    gray = rgb.convert("L")
    wide = Image.fromarray(__import__("numpy").asarray(gray, dtype="uint16") * 257)  # 16-bit grayscale
    rgba = rgb.convert("RGBA")
    pictures: list[tuple[str, Image.Image, dict]] = [
        ("png-L", gray, {"format": "PNG"}),
        ("png-RGBA", rgba, {"format": "PNG"}),
        ("png-P", rgb.convert("P"), {"format": "PNG", "transparency": 0}),
        ("png-I16", wide, {"format": "PNG"}),
        ("png-interlaced", rgb, {"format": "PNG", "interlace": 1}),
        ("bmp-RGB", rgb, {"format": "BMP"}),
        ("bmp-P", rgb.convert("P"), {"format": "BMP"}),
        ("bmp-rle", rgb.convert("P"), {"format": "BMP", "compression": 1}),
        ("gif", rgb.convert("P"), {"format": "GIF"}),
        ("tiff-raw", rgb, {"format": "TIFF"}),
        ("tiff-lzw", gray, {"format": "TIFF", "compression": "tiff_lzw"}),
        ("tiff-deflate-I16", wide, {"format": "TIFF", "compression": "tiff_adobe_deflate"}),
        ("jpeg", rgb, {"format": "JPEG", "quality": 80}),
        ("webp", rgb, {"format": "WEBP", "lossless": True}),
    ]
    files = {}
    for name, picture, options in pictures:
        buffer = io.BytesIO()
        try:
            picture.save(buffer, **options)
        except (KeyError, OSError, ValueError):  # a Pillow built without this codec: fuzz the others
            continue
        files[name] = buffer.getvalue()
    return files


def png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, payload) of each chunk of a PNG, as far as its lengths make sense."""
    chunks, offset = [], 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((offset, kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def flip_bits(data: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def truncate(data: bytearray, rng: random.Random) -> bytes:
    return bytes(data[: rng.randrange(len(data))])


def write_boundary_value(data: bytearray, rng: random.Random) -> bytes:
    width = rng.choice((1, 2, 4))
    value = rng.choice(BOUNDARY_VALUES) & ((1 << (8 * width)) - 1)
    offset = rng.randrange(max(1, len(data) - width))
    data[offset : offset + width] = value.to_bytes(width, rng.choice(("big", "little")))
    return bytes(data)


def insert_or_delete(data: bytearray, rng: random.Random) -> bytes:
    offset = rng.randrange(len(data))
    if rng.random() < 0.5:
        del data[offset : offset + rng.randint(1, 16)]
    else:
        data[offset:offset] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def edit_png_chunk(data: bytearray, rng: random.Random) -> bytes:
    """Damage one chunk's payload, or drop, duplicate or swap chunks; CRCs stay right so the payload is parsed."""
    if bytes(data[:8]) != b"\x89PNG\r\n\x1a\n":
        return flip_bits(data, rng)
    chunks = [png_chunk(kind, payload) for _, kind, payload in png_chunks(bytes(data))]
    index = rng.randrange(len(chunks))
    action = rng.choice(("payload", "payload", "payload", "drop", "duplicate", "swap", "length"))
    if action == "payload":
        kind, payload = chunks[index][4:8], bytearray(chunks[index][8:-4])
        mutated = write_boundary_value(payload, rng) if payload and rng.random() < 0.5 else None
        if mutated is None:
            mutated = flip_bits(payload, rng) if payload else bytes([rng.randrange(256)])
        chunks[index] = png_chunk(kind, mutated)
    elif action == "drop":
        del chunks[index]
    elif action == "duplicate":
        chunks.insert(index, chunks[index])
    elif action == "swap":
        other = rng.randrange(len(chunks))
        chunks[index], chunks[other] = chunks[other], chunks[index]
    else:  # a length field that disagrees with the chunk
        chunk = bytearray(chunks[index])
        chunk[:4] = struct.pack(">I", rng.choice(BOUNDARY_VALUES) & 0xFFFFFFFF)
        chunks[index] = bytes(chunk)
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


MUTATIONS: tuple[Callable[[bytearray, random.Random], bytes], ...] = (
    flip_bits,
    truncate,
    write_boundary_value,
    insert_or_delete,
    edit_png_chunk,
)


def damaged_pictures(count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``count`` (label, bytes) cases, the same for the same seed; each label says how to rebuild its case."""
    rng = random.Random(seed)
    seeds = seed_files()
    names = sorted(seeds)
    for case in range(count):
        name = names[case % len(names)]
        data = bytearray(seeds[name])
        for _ in range(rng.choice((1, 1, 1, 2, 3))):  # mostly one mutation, sometimes stacked ones
            mutation = rng.choice(MUTATIONS)
            data = bytearray(mutation(data, rng)) if data else data
        yield f"case {case} ({name})", bytes(data)
