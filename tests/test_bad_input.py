"""Bad input: each case ends in one line that says what was wrong and how to fix it, a non-zero exit, and
nothing half-written (no run folder is left behind); a traceback only with --debug."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from cli import main
from datamodules.idx import write_idx
from datamodules.mnist_files import TRAIN_IMAGES, TRAIN_LABELS
from lightning_classics.runs.command_line import DEBUG_ENV
from rl import play
from tests.helpers import QUIET, ROOT, cli_args, preset

# CartPole-v0 is the task of the issue (200-step episodes); gymnasium suggests v1 on every make.
pytestmark = pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date:DeprecationWarning")


def one_line_error(args: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(args)
    message = info.value.code
    assert isinstance(message, str) and message.startswith("error: ") and "\n" not in message, message
    return message


def mnist(subcommand: str, data: Path, runs: Path, *extra: str) -> list[str]:
    return cli_args(subcommand, "mnist_cnn", runs, "--data.data_dir", str(data), "--data.val_size", "50", *extra)


# ---- data files -------------------------------------------------------------------------------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def not_gzip(path: Path) -> None:
    path.write_text("this is not gzip data\n")


def bad_magic(path: Path) -> None:
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[2] = 0x0D  # float data instead of unsigned bytes
    path.write_bytes(gzip.compress(bytes(data)))


def fewer_labels(path: Path) -> None:
    write_idx(path.with_name(f"{TRAIN_LABELS}.gz"), torch.zeros(299, dtype=torch.uint8))


def label_out_of_range(path: Path) -> None:
    labels = torch.zeros(300, dtype=torch.uint8)
    labels[7] = 12
    write_idx(path.with_name(f"{TRAIN_LABELS}.gz"), labels)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (truncate, "cannot be read"),
        (not_gzip, "cannot be read"),
        (bad_magic, "bad magic number"),
        (fewer_labels, "(300, 28, 28) images and 299 labels"),
        (label_out_of_range, "1 label(s) outside 0-9 (largest 12)"),
    ],
)
def test_damaged_data_files(damage: Callable[[Path], None], expected: str, mnist_dir: Path, tmp_path: Path):
    damage(mnist_dir / f"{TRAIN_IMAGES}.gz")
    message = one_line_error(mnist("fit", mnist_dir, tmp_path / "runs"))
    assert expected in message and str(mnist_dir) in message
    assert not (tmp_path / "runs" / "mnist_cnn").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data.download", "false", "--data.data_dir", "/nonexistent"], "mnist files not found"),
        (["--data.dataset", "kmnist"], "dataset must be one of 'mnist', 'fashion_mnist', got kmnist"),
        (["--data.batch_size", "0"], "--data.batch_size and --data.eval_batch_size must be at least 1"),
        (["--model.init_args.lr", "0"], "--model.init_args.lr must be positive"),
        (["--model.init_args.lr=-1e-3"], "--model.init_args.lr must be positive"),
        (["--data.val_size", "0"], "val_size must be between 1 and 299, got 0"),
        (["--data.val_size", "300"], "val_size must be between 1 and 299, got 300"),
        (["--trainer.accelerator", "gpu"], "pass --trainer.accelerator auto"),
        (["--model.init_args.lrr", "0.1"], "unknown option 'lrr' for CNN; did you mean 'lr'?"),
        (["--trainer.max_epochz", "1"], "unknown option 'trainer.max_epochz'; did you mean 'trainer.max_epochs'?"),
        # a prefix is no abbreviation of an option (argparse's default would take it as --trainer.max_epochs)
        (["--trainer.max_epoch", "1"], "unknown option 'trainer.max_epoch'; did you mean 'trainer.max_epochs'?"),
        (["--checkpoint_every_n_step", "3"], "unknown option 'checkpoint_every_n_step'; did you mean"),
    ],
)
def test_bad_options(extra: list[str], expected: str, mnist_dir: Path, tmp_path: Path):
    message = one_line_error(mnist("fit", mnist_dir, tmp_path / "runs", *extra))
    assert expected in message
    assert not (tmp_path / "runs" / "mnist_cnn").exists()


def test_an_unknown_yaml_key_names_the_key_and_the_closest_one(tmp_path: Path, mnist_dir: Path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("model:\n  init_args:\n    dropuot: 0.5\n")
    message = one_line_error(mnist("fit", mnist_dir, tmp_path / "runs", "--config", str(overlay)))
    assert "unknown option 'dropuot' for CNN; did you mean 'dropout'?" in message


def test_data_dir_that_is_a_file(tmp_path: Path):
    a_file = tmp_path / "mnist.tar"
    a_file.write_bytes(b"x")
    assert "is a file" in one_line_error(mnist("fit", a_file, tmp_path / "runs"))


# ---- checkpoints ------------------------------------------------------------------------------------------


def test_bad_checkpoint_files(tmp_path: Path, mnist_dir: Path):
    runs = tmp_path / "runs"
    assert "does not exist" in one_line_error(mnist("test", mnist_dir, runs, "--ckpt_path", str(tmp_path / "no.ckpt")))
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    assert "not a readable PyTorch checkpoint" in one_line_error(
        mnist("test", mnist_dir, runs, "--ckpt_path", str(text))
    )
    main(mnist("fit", mnist_dir, runs, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"))
    good = runs / "mnist_cnn/version_0/checkpoints/last.ckpt"
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[:5000])
    message = one_line_error(mnist("fit", mnist_dir, runs, "--ckpt_path", str(truncated)))
    assert "not a readable PyTorch checkpoint" in message
    assert sorted(p.name for p in (runs / "mnist_cnn").iterdir()) == ["version_0"]


def test_a_taxi_checkpoint_for_the_dqn_preset_is_refused(tmp_path: Path):
    runs = tmp_path / "runs"
    short = [
        "--trainer.max_epochs",
        "1",
        "--model.init_args.episodes_per_epoch",
        "20",
        "--model.init_args.val_episodes",
        "5",
    ]
    main(cli_args("fit", "taxi_qlearning", runs, *short))
    taxi = runs / "taxi_qlearning/version_0/checkpoints/last.ckpt"
    message = one_line_error(cli_args("fit", "cartpole_dqn", runs, "--ckpt_path", str(taxi)))
    assert "holds a TabularQLearning model but the configuration builds a DQN" in message
    env = one_line_error(
        cli_args("test", "taxi_qlearning", runs, "--ckpt_path", str(taxi), "--model.init_args.env_id", "FrozenLake-v1")
    )
    assert "trained on env_id='Taxi-v4' but the configuration says 'FrozenLake-v1'" in env


# ---- agent arguments --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("gamma", "1.5", "gamma must be in [0.0, 1.0], got 1.5"),
        ("gamma", "-0.1", "gamma must be in [0.0, 1.0], got -0.1"),
        ("n_steps", "0", "n_steps must be at least 1, got 0"),
        ("frame_skip", "0", "frame_skip must be at least 1, got 0"),
        ("frame_stack", "0", "frame_stack must be at least 1, got 0"),
        ("train_freq", "0", "train_freq must be at least 1, got 0"),
        ("steps_per_epoch", "0", "steps_per_epoch must be at least 1, got 0"),
        ("target_update_interval", "0", "target_update_interval must be at least 1, got 0"),
        ("val_episodes", "0", "val_episodes must be at least 1, got 0"),
        ("lr", "0", "lr must be positive, got 0"),
        ("lr_end", "0.1", "lr_end (0.1) must be between 0 and lr (0.0023)"),
        # a union nested in the model's own: the argument is named, not "model must be class ..."
        ("stop_return", "banana", "model.init_args.stop_return must be one of reward_threshold, full_score (or float)"),
        ("buffer_size", "64", "buffer_size (64) is smaller than batch_size (128)"),
        ("env_id", "CartPole-v9", "env_id 'CartPole-v9' cannot be made"),
        ("env_id", "NoSuchEnv-v0", "env_id 'NoSuchEnv-v0' cannot be made"),
        ("env_id", "Pendulum-v1", "Pendulum-v1 has a Box action space"),
    ],
)
def test_bad_dqn_arguments(option: str, value: str, expected: str, tmp_path: Path):
    message = one_line_error(cli_args("fit", "cartpole_dqn", tmp_path, f"--model.init_args.{option}", value))
    assert expected in message
    assert not (tmp_path / "cartpole_dqn").exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("gamma", "2", "gamma must be in [0.0, 1.0]"),
        ("lr", "0", "lr must be in (0.0, 1.0]"),
        ("episodes_per_step", "0", "at least 1"),
    ],
)
def test_bad_taxi_arguments(option: str, value: str, expected: str, tmp_path: Path):
    assert expected in one_line_error(cli_args("fit", "taxi_qlearning", tmp_path, f"--model.init_args.{option}", value))


# ---- other commands ---------------------------------------------------------------------------------------


def test_play_with_a_missing_or_wrong_checkpoint(tmp_path: Path, mnist_dir: Path):
    for argv, expected in (
        (["--ckpt", str(tmp_path / "none.ckpt")], "does not exist"),
        (["--ckpt", str(ROOT / "README.md")], "not a readable PyTorch checkpoint"),
    ):
        with pytest.raises(SystemExit) as info:
            play.main(argv)
        assert str(info.value.code).startswith("error: --ckpt") and expected in str(info.value.code)
    main(cli_args("fit", "tiny_net", tmp_path, "--trainer.max_epochs", "1"))
    with pytest.raises(SystemExit) as info:
        play.main(["--ckpt", str(tmp_path / "tiny_net/version_0/checkpoints/last.ckpt")])
    assert "holds a TinyNet, which cannot play" in str(info.value.code)


@pytest.mark.parametrize("inputs", ["[[1, 2], [3, 4]]", "[[1, 2, 3], [4]]", "[[1, 'a', 3]]"])
def test_predict_with_wrong_inputs(inputs: str, tmp_path: Path):
    message = one_line_error(cli_args("predict", "tiny_net", tmp_path, "--data.predict_inputs", inputs))
    assert "predict_inputs must be" in message  # rows of 3 numbers, or numbers (float)


def test_debug_lets_the_error_through_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fast twin of the subprocess test below: without --debug one line, with it the error itself."""
    # --debug sets this variable for DDP's processes; "0" (off) through monkeypatch removes it again after the test
    monkeypatch.setenv(DEBUG_ENV, "0")
    args = cli_args("fit", "tiny_net", tmp_path, "--model.init_args.lr", "-1")
    assert one_line_error(args).startswith("error: --model.init_args.lr must be positive")
    with pytest.raises(ValueError, match="lr must be positive"):
        main([*args, "--debug"])


@pytest.mark.slow  # two cli.py processes
def test_a_traceback_only_with_debug(tmp_path: Path):
    args = [sys.executable, "cli.py", "fit", "--config", preset("tiny_net"), "--runs_dir", str(tmp_path), *QUIET]
    args += ["--model.init_args.lr", "-1"]
    quiet = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.strip().splitlines()[-1].startswith("error: --model.init_args.lr must be positive")
    loud = subprocess.run([*args, "--debug"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loud.returncode == 1 and "Traceback" in loud.stderr
