"""A SHA-256 of every byte of a checkpoint file, kept in the file itself, so that any damage is found on load.

Where the digest lives, and why there: ``torch.save`` writes a zip archive, and a zip archive may end with a
comment (its last record, the "end of central directory", says how long the comment is). The digest is that
comment: ``TRAILER_TAG`` and the hex SHA-256 of every byte before it. So

- it covers the whole file: the tensors, the pickled structure, and the zip's own headers and padding, which
  a digest of the loaded contents would not see (a flip there goes unnoticed but may break the file later);
- ``torch.load``, Lightning and any zip tool still read the file unchanged (a comment is part of the format);
- checking it needs no unpickling: the file is verified before anything in it is read.

A file written before checksums ends with a comment of length 0 (what ``torch.save`` writes); one bit flip in
a file with a digest cannot turn it into that (the digest's text holds no zip signature bytes), so a damaged
new file is never mistaken for an old one.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO, Literal

TRAILER_TAG = b"\nlightning-classics sha256 "
DIGEST_CHARS = 64  # hex SHA-256
TRAILER_LENGTH = len(TRAILER_TAG) + DIGEST_CHARS
ZIP_START = b"PK\x03\x04"  # a zip archive's first local file header
END_RECORD = b"PK\x05\x06"  # signature of the zip's "end of central directory" record, 22 bytes without comment
END_RECORD_LENGTH = 22
CHUNK = 1 << 20


class ChecksumMismatch(ValueError):
    """The file's bytes do not match the digest it carries: it was damaged after it was written."""


class ChecksumMissing(ChecksumMismatch):
    """A zip whose end is neither a digest nor torch's own end record: truncated, or its digest record damaged."""


def append_checksum(file: BinaryIO) -> None:
    """Turn the zip archive ``torch.save`` just wrote to ``file`` (opened for reading and writing) into one that
    carries its digest as the zip comment."""
    file.seek(-END_RECORD_LENGTH, 2)
    end = file.read(END_RECORD_LENGTH)
    if end[:4] != END_RECORD or end[-2:] != b"\x00\x00":
        raise RuntimeError("torch.save did not end its file with a comment-less zip record; cannot add a checksum")
    file.seek(-2, 2)
    file.write(TRAILER_LENGTH.to_bytes(2, "little"))
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(CHUNK):
        digest.update(chunk)
    file.seek(0, 2)
    file.write(TRAILER_TAG + digest.hexdigest().encode("ascii"))


def verify_checksum(file: BinaryIO) -> Literal["verified", "no checksum", "not a zip"]:
    """Check ``file`` against the digest it ends with. "no checksum": a zip that ends with no comment (a checkpoint
    written before checksums); "not a zip": something else, left for ``torch.load`` to refuse. Raises
    :class:`ChecksumMismatch` for a file whose bytes are not the ones it was written with."""
    size = file.seek(0, 2)
    file.seek(0)
    if file.read(4) != ZIP_START:
        file.seek(0)
        return "not a zip"
    if size >= END_RECORD_LENGTH:
        file.seek(size - END_RECORD_LENGTH)
        end = file.read(END_RECORD_LENGTH)
        if end[:4] == END_RECORD and end[-2:] == b"\x00\x00":
            file.seek(0)
            return "no checksum"
    file.seek(max(size - TRAILER_LENGTH, 0))
    trailer = file.read(TRAILER_LENGTH)
    if size <= TRAILER_LENGTH or not trailer.startswith(TRAILER_TAG):
        file.seek(0)
        raise ChecksumMissing("its end is damaged: neither a checksum nor a complete zip archive")
    digest = hashlib.sha256()
    file.seek(0)
    left = size - TRAILER_LENGTH
    while left > 0:
        chunk = file.read(min(CHUNK, left))
        if not chunk:
            raise ChecksumMismatch("it became shorter while it was read")
        digest.update(chunk)
        left -= len(chunk)
    if digest.hexdigest().encode("ascii") != trailer[len(TRAILER_TAG) :]:
        raise ChecksumMismatch("its contents do not match the SHA-256 checksum it was written with")
    file.seek(0)
    return "verified"
