"""Every checkpoint the project writes carries a SHA-256 of its bytes; every load checks it, so a flipped bit is a
one-line error naming the file (also when the zip is still readable), and older checkpoints load with a notice."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

import cli
from lightning_classics.runs.atomic_io import AtomicCheckpointIO
from lightning_classics.runs.checkpoint_loader import read_checkpoint
from lightning_classics.runs.errors import UserError
from tests.crafted_checkpoints import checkpoint_of, classifier_checkpoint, small_classifier
from tests.helpers import cli_args


def flipped(data: bytes, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def readable_by_torch(path: Path) -> bool:
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return False
    return True


def test_every_flipped_bit_is_detected_in_one_line_naming_the_file(tmp_path):
    good = classifier_checkpoint(tmp_path / "good.ckpt").read_bytes()
    damaged = tmp_path / "damaged.ckpt"
    rng = random.Random(0)
    bits = rng.sample(range(len(good) * 8), 300)
    still_readable = 0
    for bit in bits:
        damaged.write_bytes(flipped(good, bit))
        still_readable += readable_by_torch(damaged)
        with pytest.raises(UserError) as info:
            read_checkpoint(damaged)
        message = str(info.value)
        assert str(damaged) in message and "\n" not in message, (bit, message)
    # Most flips leave a file torch reads without complaint (silently wrong weights): those are the point.
    assert still_readable > len(bits) // 2
    assert read_checkpoint(tmp_path / "good.ckpt")["state_dict"].keys() == small_classifier().state_dict().keys()


def test_a_flip_in_the_weights_says_the_file_is_damaged(tmp_path):
    path = classifier_checkpoint(tmp_path / "model.ckpt")
    data = path.read_bytes()
    weight = small_classifier().state_dict()["net.1.weight"].numpy().tobytes()[:16]
    at = data.index(weight)
    path.write_bytes(flipped(data, at * 8 + 30))
    assert readable_by_torch(path)  # torch alone would hand out the damaged weights
    with pytest.raises(UserError, match=rf"--ckpt_path {path} is damaged: .*SHA-256"):
        read_checkpoint(path)
    with pytest.raises(UserError, match="is damaged"):  # Lightning's own restore reads through the same check
        AtomicCheckpointIO().load_checkpoint(path)


def test_the_cli_refuses_a_damaged_checkpoint_before_lightning_reads_it(tmp_path, mnist_dir):
    path = classifier_checkpoint(tmp_path / "model.ckpt")
    path.write_bytes(flipped(path.read_bytes(), len(path.read_bytes()) * 4))
    for subcommand in ("test", "fit"):
        args = cli_args(subcommand, "mnist_ann", tmp_path / "runs", "--data.data_dir", str(mnist_dir))
        with pytest.raises(SystemExit) as info:
            cli.main([*args, "--ckpt_path", str(path)])
        message = str(info.value.code)
        assert message.startswith(f"error: --ckpt_path {path} is damaged") and "\n" not in message
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.ckpt"))


def test_a_checkpoint_written_before_checksums_loads_with_a_notice(tmp_path, capsys):
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint_of(small_classifier()), old)  # what Lightning wrote before: no checksum
    assert read_checkpoint(old)["hyper_parameters"]["hidden_sizes"] == (8, 8, 8)
    err = capsys.readouterr().err
    assert f"notice: {old} has no checksum" in err and len(err.strip().splitlines()) == 1
    read_checkpoint(old)
    assert capsys.readouterr().err == ""  # once per file


def test_written_checkpoints_still_load_with_torch_and_lightning(tmp_path):
    path = classifier_checkpoint(tmp_path / "model.ckpt")
    assert torch.load(path, weights_only=True)["hyper_parameters"]["hidden_sizes"] == (8, 8, 8)
    assert type(small_classifier()).load_from_checkpoint(path, weights_only=True).hparams.hidden_sizes == (8, 8, 8)
