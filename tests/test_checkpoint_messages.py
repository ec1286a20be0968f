"""Checkpoint messages that say what happened: Ctrl-C during a write, a full disk, a killed first write, weights
that do not fit, and the export/play commands' own errors, each one line."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import cli
import lightning_classics.runs.atomic_io as atomic_io
from lightning_classics.inference import export
from lightning_classics.runs.atomic_io import TEMP_MARKER, CheckpointWriteInterrupted, atomic_torch_save
from lightning_classics.runs.command_line import run_command
from lightning_classics.runs.errors import UserError
from rl import play
from tests.crafted_checkpoints import agent_checkpoint, checkpoint_of, classifier_checkpoint, small_classifier
from tests.helpers import cli_args

BIG = {"x": torch.zeros(1_000_000)}  # 4 MB: more than one write's buffer


class InterruptedFile:
    """A file whose third write is interrupted by Ctrl-C, as a second Ctrl-C during torch.save's write is."""

    def __init__(self, path: Path) -> None:
        self.file, self.writes = open(path, "w+b"), 0  # noqa: SIM115 (closed in __exit__)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def write(self, data) -> int:
        self.writes += 1
        if self.writes == 3:
            raise KeyboardInterrupt
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_a_second_ctrl_c_during_a_write_is_the_interrupt_with_exit_130(tmp_path, monkeypatch, capsys):
    target = tmp_path / "last.ckpt"
    atomic_torch_save({"x": torch.ones(3)}, target)
    good = target.read_bytes()
    monkeypatch.setattr(atomic_io, "open", lambda path, mode: InterruptedFile(path), raising=False)
    with pytest.raises(CheckpointWriteInterrupted):
        atomic_torch_save(BIG, target)
    with pytest.raises(SystemExit) as stop:
        run_command(lambda argv: atomic_torch_save(BIG, target), [])
    assert stop.value.code == 130
    assert "Stopped by SIGINT: interrupted while writing checkpoint" in capsys.readouterr().err
    assert target.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_a_full_disk_says_no_space_left_on_device(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    monkeypatch.setattr(atomic_io, "open", lambda path, mode: open("/dev/full", "wb"), raising=False)  # noqa: SIM115
    with pytest.raises(UserError) as info:
        atomic_torch_save(BIG, target)  # torch itself says "[enforce fail at inline_container.cc] unexpected pos"
    assert f"could not write checkpoint {target}: no space left on device; nothing was written" in str(info.value)
    assert "enforce fail" not in str(info.value)


def dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(finished.stdout)


def test_a_killed_first_write_leaves_a_run_that_says_so_and_is_cleaned(tmp_path):
    runs = tmp_path / "runs"
    checkpoints = runs / "tiny_net/version_0/checkpoints"
    checkpoints.mkdir(parents=True)
    stale = checkpoints / f".last.ckpt{TEMP_MARKER}{dead_pid()}-deadbeef"
    stale.write_bytes(b"half a checkpoint")
    alive = checkpoints / f".best.ckpt{TEMP_MARKER}{subprocess.os.getpid()}-cafecafe"  # a write in progress
    alive.write_bytes(b"being written")
    with pytest.raises(SystemExit) as info:
        cli.main(cli_args("fit", "tiny_net", runs, "--ckpt_path", "last"))
    message = str(info.value.code)
    assert "no 'last' checkpoint" in message and "removed 1 partial file(s) of an interrupted write" in message
    assert not stale.exists() and alive.exists()


def test_weights_that_do_not_fit_are_named_with_their_shapes(tmp_path):
    checkpoint = checkpoint_of(small_classifier())
    weights = checkpoint["state_dict"]
    del weights["net.1.bias"]
    weights["net.1.weight"] = torch.zeros(3, 3)
    weights["extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.ckpt"
    atomic_torch_save(checkpoint, path)
    with pytest.raises(SystemExit) as info:
        export.main(["--ckpt", str(path), "--format", "onnx"])
    message = str(info.value.code)
    assert "missing net.1.bias" in message and "unexpected extra.weight" in message
    assert "net.1.weight has shape (3, 3), the model's is (8, 784)" in message and "\n" not in message


@pytest.mark.parametrize(
    ("hparams", "expected"),
    [
        ({"_instantiator": "somewhere.else"}, "names the instantiator 'somewhere.else'"),
        ({"_class_path": 42}, "names the class 42, which is not one of this project's models"),
        ({"hidden_sizes": "wide"}, "its hyper-parameters do not build a ANN"),
        ({"no_such_argument": 1}, "its hyper-parameters do not build a ANN"),
    ],
)
def test_export_refuses_bad_hyper_parameters_in_one_line(tmp_path, hparams, expected):
    path = classifier_checkpoint(tmp_path / "bad.ckpt", **hparams)
    with pytest.raises(SystemExit) as info:
        export.main(["--ckpt", str(path), "--format", "onnx"])
    assert expected in str(info.value.code) and "\n" not in str(info.value.code)


def test_hyper_parameters_that_are_a_list_are_refused(tmp_path):
    checkpoint = checkpoint_of(small_classifier())
    checkpoint["hyper_parameters"] = [1, 2]
    path = tmp_path / "list.ckpt"
    atomic_torch_save(checkpoint, path)
    for command in (export.main, play.main):
        argv = ["--ckpt", str(path)] + (["--format", "onnx"] if command is export.main else [])
        with pytest.raises(SystemExit) as info:
            command(argv)
        assert "holds hyper-parameters of type list, not a dict" in str(info.value.code)


def test_export_out_onto_a_folder_or_an_unwritable_place(tmp_path):
    ckpt = classifier_checkpoint(tmp_path / "model.ckpt")
    with pytest.raises(SystemExit) as info:
        export.main(["--ckpt", str(ckpt), "--format", "onnx", "--out", str(tmp_path)])
    assert f"--out {tmp_path} is a folder: pass a file name" in str(info.value.code)
    with pytest.raises(SystemExit) as info:
        export.main(["--ckpt", str(ckpt), "--format", "onnx", "--out", "/proc/no_such/model.onnx"])
    assert str(info.value.code).startswith("error: cannot create the folder of --out /proc/no_such/model.onnx")


def test_export_and_play_usage_errors_are_one_line(tmp_path, capsys):
    for command, argv in ((export.main, ["--format", "onnx"]), (play.main, ["--no_such_option"])):
        with pytest.raises(SystemExit) as info:
            command(argv)
        message = str(info.value.code)
        assert message.startswith("error: ") and "(see --help)" in message and "\n" not in message
    assert "usage:" not in capsys.readouterr().err


def test_play_refuses_an_agent_without_its_state(tmp_path):
    checkpoint = torch.load(agent_checkpoint(tmp_path / "agent.ckpt"), weights_only=True)
    del checkpoint["state_dict"]["q_table"]
    atomic_torch_save(checkpoint, tmp_path / "agent.ckpt")
    with pytest.raises(SystemExit) as info:
        play.main(["--ckpt", str(tmp_path / "agent.ckpt")])
    assert "missing q_table" in str(info.value.code)


def cli_error(args: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    message = str(info.value.code)
    assert message.startswith("error: ") and "\n" not in message, message
    return message


def test_cli_names_the_keys_of_weights_that_do_not_fit(tmp_path):
    cli.main(cli_args("fit", "tiny_net", tmp_path, "--trainer.max_epochs", "1"))
    checkpoint = torch.load(tmp_path / "tiny_net/version_0/checkpoints/last.ckpt", weights_only=True)
    weights = checkpoint["state_dict"]
    weights["net.1.weight"] = weights["net.1.weight"][:, :2]
    crafted = tmp_path / "crafted.ckpt"
    atomic_torch_save(checkpoint, crafted)
    message = cli_error(cli_args("test", "tiny_net", tmp_path, "--ckpt_path", str(crafted)))
    assert "net.1.weight has shape (4, 2), the model's is (4, 3)" in message


def test_cli_on_a_device_and_on_a_raw_pickle(tmp_path, mnist_dir):
    args = cli_args("test", "mnist_ann", tmp_path / "runs", "--data.data_dir", str(mnist_dir), "--ckpt_path")
    assert "/dev/zero is not a regular file" in cli_error([*args, "/dev/zero"])
    raw = tmp_path / "raw.ckpt"
    raw.write_bytes(pickle.dumps({"state_dict": {}, "epoch": 1}))  # torch's error advises weights_only=False
    message = cli_error([*args, str(raw)])
    assert "not written by torch.save" in message and "weights_only" not in message
    torch.save({"state_dict": {}, "f": print}, raw, _use_new_zipfile_serialization=False)
    message = cli_error([*args, str(raw)])
    assert "never unpickled here" in message and "weights_only" not in message
