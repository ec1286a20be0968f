import gzip

import pytest
import torch

from datamodules.idx import IDXFormatError, read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzipped(tmp_path, name):
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    path = write_idx(tmp_path / name, images)
    assert torch.equal(read_idx(path), images)


def test_reads_labels_as_one_dimensional(tmp_path):
    labels = torch.tensor([3, 1, 4, 1, 5], dtype=torch.uint8)
    assert torch.equal(read_idx(write_idx(tmp_path / "labels", labels)), labels)


def test_header_is_big_endian_standard_format(tmp_path):
    path = write_idx(tmp_path / "labels", torch.zeros(258, dtype=torch.uint8))
    assert path.read_bytes()[:8] == bytes([0, 0, 8, 1, 0, 0, 1, 2])  # magic 2049, count 258


def test_bad_magic_is_rejected(tmp_path):
    path = tmp_path / "bogus"
    path.write_bytes(b"PK\x03\x04not an idx file")
    with pytest.raises(IDXFormatError, match="bad magic"):
        read_idx(path)


def test_truncated_payload_is_rejected(tmp_path):
    path = write_idx(tmp_path / "images", torch.zeros(4, 28, 28, dtype=torch.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IDXFormatError, match="expected 3136 bytes"):
        read_idx(path)


def test_corrupt_gzip_is_rejected(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abcde")[:-6])
    with pytest.raises(IDXFormatError, match="cannot be read"):
        read_idx(path)
