"""Run folders: a new fit never touches an earlier run; resume and evaluation find the right run; checks on
checkpoints given with --ckpt_path (another model class, changed options, foreign class paths, unsafe pickles)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

from cli import console_main, main
from tests.helpers import QUIET, preset


def tiny_args(subcommand: str, runs_dir: Path, *extra: str) -> list[str]:
    config = preset("tiny_net")
    return [subcommand, "--config", config, "--runs_dir", str(runs_dir), "--trainer.max_epochs", "2", *QUIET, *extra]


def mnist_args(subcommand: str, preset_name: str, mnist_dir: Path, runs_dir: Path, *extra: str) -> list[str]:
    return [
        subcommand, "--config", preset(preset_name),
        "--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50",
        "--runs_dir", str(runs_dir), *QUIET, *extra,
    ]  # fmt: skip


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def error_of(args: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(args)
    message = str(info.value)
    assert message.startswith("error: ") and "\n" not in message, message
    return message


def test_a_new_fit_never_touches_an_earlier_run_and_resume_continues_the_latest(tmp_path):
    runs = tmp_path / "runs"
    main(tiny_args("fit", runs))
    first = snapshot(runs / "tiny_net" / "version_0")
    assert {"checkpoints/best.ckpt", "checkpoints/last.ckpt", "config.yaml"} <= set(first)

    main(tiny_args("fit", runs, "--trainer.max_epochs", "1"))  # the case: a shorter second run
    assert snapshot(runs / "tiny_net" / "version_0") == first
    second = runs / "tiny_net" / "version_1"
    assert torch.load(second / "checkpoints/last.ckpt", weights_only=True)["epoch"] == 0

    resumed = main(tiny_args("fit", runs, "--trainer.max_epochs", "3", "--ckpt_path", "last"))
    assert resumed.trainer.ckpt_path == str(second / "checkpoints/last.ckpt")
    assert resumed.trainer.log_dir == str(second)  # the same TensorBoard curve
    assert resumed.trainer.current_epoch == 3
    assert sorted(p.name for p in (runs / "tiny_net").iterdir()) == ["version_0", "version_1"]
    assert snapshot(runs / "tiny_net" / "version_0") == first

    # Evaluation uses the latest run, or the one --version names, and adds no version folder.
    tested = main(tiny_args("test", runs, "--ckpt_path", "last"))
    assert tested.trainer.ckpt_path == str(second / "checkpoints/last.ckpt")
    older = main(tiny_args("test", runs, "--ckpt_path", "best", "--version", "0"))
    assert older.trainer.ckpt_path == str(runs / "tiny_net/version_0/checkpoints/best.ckpt")
    main(tiny_args("predict", runs, "--ckpt_path", "best"))
    assert len(list(second.glob("predictions-*.pt"))) == 1
    assert sorted(p.name for p in (runs / "tiny_net").iterdir()) == ["version_0", "version_1"]


def test_nothing_to_resume_is_a_one_line_error(tmp_path):
    main(tiny_args("fit", tmp_path, "--trainer.max_epochs", "1"))
    message = error_of(tiny_args("fit", tmp_path, "--run_name", "tiny_nte", "--ckpt_path", "last"))
    assert "nothing to resume: no run 'tiny_nte'" in message and "tiny_net" in message  # names what exists
    assert "--version 7 does not exist" in error_of(
        tiny_args("test", tmp_path, "--ckpt_path", "last", "--version", "7")
    )
    assert not (tmp_path / "tiny_nte").exists()


@pytest.mark.parametrize("run_name", ["../escaped", "/tmp/abs", "a/b", "..", ".hidden"])
def test_run_name_cannot_leave_the_runs_dir(tmp_path, run_name):
    message = error_of(tiny_args("fit", tmp_path / "runs", "--run_name", run_name))
    assert "--run_name" in message and "plain folder name" in message
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "runs").exists()


def test_runs_dir_that_is_a_file_or_cannot_be_written(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "is a file, not a folder" in error_of(tiny_args("fit", a_file))
    assert "cannot create --runs_dir" in error_of(tiny_args("fit", a_file / "below"))
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "not writable" in error_of(tiny_args("fit", locked))


def test_a_checkpoint_of_another_model_class_is_refused(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    main(
        mnist_args(
            "fit", "mnist_ann", mnist_dir, runs, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"
        )
    )
    ann = runs / "mnist_ann/version_0/checkpoints/last.ckpt"
    for subcommand in ("test", "fit"):
        message = error_of(mnist_args(subcommand, "mnist_cnn", mnist_dir, runs, "--ckpt_path", str(ann)))
        assert "holds a ANN model but the configuration builds a CNN" in message
    assert sorted(p.name for p in runs.iterdir()) == ["mnist_ann"]  # nothing half-written


def test_options_that_differ_from_the_checkpoint_apply_or_are_refused(tmp_path):
    runs = tmp_path / "runs"
    main(tiny_args("fit", runs, "--trainer.max_epochs", "1", "--model.init_args.scheduler", "none"))
    refused = error_of(tiny_args("fit", runs, "--ckpt_path", "last", "--model.init_args.hidden", "8"))
    assert "hidden=8 (checkpoint: 4)" in refused

    # The learning rate may change on resume, and then really changes the optimizer.
    resumed = main(
        tiny_args(
            "fit", runs, "--ckpt_path", "last", "--model.init_args.scheduler", "none", "--model.init_args.lr", "0.5"
        )
    )
    assert resumed.model.hparams.lr == 0.5
    assert [group["lr"] for group in resumed.trainer.optimizers[0].param_groups] == [0.5]
    saved = torch.load(runs / "tiny_net/version_0/checkpoints/last.ckpt", weights_only=True)
    assert saved["optimizer_states"][0]["param_groups"][0]["lr"] == 0.5


def test_a_class_path_in_a_checkpoint_is_never_imported(tmp_path):
    main(tiny_args("fit", tmp_path, "--trainer.max_epochs", "1"))
    path = tmp_path / "tiny_net/version_0/checkpoints/last.ckpt"
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["hyper_parameters"]["_class_path"] = "this.Agent"  # importing `this` prints the Zen of Python
    crafted = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, crafted)
    assert "this" not in sys.modules
    message = error_of(tiny_args("test", tmp_path, "--ckpt_path", str(crafted)))
    assert "'this.Agent', which is not one of this project's models" in message
    assert "this" not in sys.modules


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_in_a_checkpoint_is_never_run(tmp_path, capfd):
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "x": _Payload()}, evil)
    message = error_of(tiny_args("test", tmp_path, "--ckpt_path", str(evil)))
    assert "never unpickled" in message
    assert "pwned" not in capfd.readouterr().out


def test_console_command_returns_nothing_so_the_exit_status_is_0(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-classics", *tiny_args("fit", tmp_path, "--trainer.max_epochs", "1")])
    assert console_main() is None
