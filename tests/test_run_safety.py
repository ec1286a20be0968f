"""Run safety: one training process per run folder, a diverged (NaN) run stops without saving, values that make no
sense are refused, and SIGTERM during start-up ends cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from cli import main
from rl.dqn.agent import DQN
from tests.helpers import ROOT, cli_args
from training_runs.run_lock import LOCK_FILE, lock_run, release_run_locks

pytestmark = pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date:DeprecationWarning")

TINY = ("--data.train_size", "256", "--data.val_size", "64")  # 4 batches of 64 an epoch
# Short runs, should a refused value be accepted after all.
SHORT_DQN = ("--trainer.max_epochs", "1", "--model.steps_per_epoch", "5", "--model.learning_starts", "10")

# Tries the lock of the folder given, as another process would; exit status 0: it was free.
TRY_LOCK = (
    "import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR | os.O_CREAT), fcntl.LOCK_EX | fcntl.LOCK_NB)"
)
# Holds a run folder's lock until killed.
HOLDER = """
import sys, time
from pathlib import Path
from training_runs.run_lock import lock_run
lock_run(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(300)
"""


def one_line_error(args: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(args)
    message = info.value.code
    assert isinstance(message, str) and message.startswith("error: ") and "\n" not in message, message
    return message


def tiny(runs: Path, *extra: str) -> list[str]:
    return cli_args("fit", "tiny_net", runs, *TINY, *extra)


def all_finite(checkpoint: Path) -> bool:
    weights = torch.load(checkpoint, weights_only=True)["state_dict"].values()
    return all(bool(t.isfinite().all()) for t in weights if t.is_floating_point())


# ---- one process per run folder ---------------------------------------------------------------------------


class TryLockFromAnotherProcess(L.Callback):
    """Records, while the fit trains, whether another process could take the run folder's lock."""

    other_got_it: bool | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        lock = Path(trainer.default_root_dir) / LOCK_FILE
        self.other_got_it = subprocess.run([sys.executable, "-c", TRY_LOCK, str(lock)]).returncode == 0


def test_a_fit_holds_its_run_folder_lock_and_releases_it(tmp_path):
    probe = TryLockFromAnotherProcess()
    main(tiny(tmp_path, "--trainer.max_epochs", "1"), callbacks=[probe])
    assert probe.other_got_it is False
    lock = tmp_path / "tiny_net/version_0" / LOCK_FILE
    assert subprocess.run([sys.executable, "-c", TRY_LOCK, str(lock)]).returncode == 0  # free once the fit ended


def test_a_run_folder_in_use_is_refused_and_a_killed_holder_leaves_it_free(tmp_path):
    folder = tmp_path / "tiny_net/version_0"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints/last.ckpt").write_bytes(b"the lock is checked before the checkpoint is read")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        message = one_line_error(tiny(tmp_path, "--ckpt_path", "last"))
        assert f"run folder {folder} is in use by process {holder.pid} (python" in message
        assert "HOLDER" not in message and "-c" in message  # the holder's command line
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    lock_run(folder)  # the OS released the killed process's lock
    release_run_locks()


# ---- a diverged run stops -----------------------------------------------------------------------------------


def test_a_run_whose_loss_becomes_nan_stops_and_saves_no_checkpoint(tmp_path):
    message = one_line_error(tiny(tmp_path, "--model.init_args.lr", "1e308", "--trainer.max_epochs", "2"))
    assert "the training loss became NaN at step 2" in message and "lower --model.init_args.lr" in message
    assert not list(tmp_path.rglob("*.ckpt"))
    assert not (tmp_path / "tiny_net").exists()  # nothing half-written: the run never saved a checkpoint


class PoisonAt(L.Callback):
    """Makes one weight NaN before the training batch ``batch_idx`` of epoch ``epoch`` (a run that diverges)."""

    def __init__(self, epoch: int, batch_idx: int) -> None:
        self.epoch, self.batch_idx = epoch, batch_idx

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch_idx:
            with torch.no_grad():
                next(pl_module.parameters()).view(-1)[0] = float("nan")


def test_a_run_that_diverges_later_keeps_its_last_finite_checkpoints(tmp_path):
    # Checkpoints every 2 steps mid-epoch too: none of them may be written once the weights are NaN.
    args = tiny(tmp_path, "--trainer.max_epochs", "3", "--checkpoint_every_n_steps", "2")
    with pytest.raises(SystemExit) as info:
        main(args, callbacks=[PoisonAt(epoch=1, batch_idx=2)])
    assert "became NaN at step 7" in str(info.value.code)  # batch 2 of epoch 1 is the 7th update (4 an epoch)
    checkpoints = tmp_path / "tiny_net/version_0/checkpoints"
    for name in ("best.ckpt", "last.ckpt"):
        assert all_finite(checkpoints / name), name
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] < 7  # written before it


# ---- values that make no sense ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("max_grad_norm", "-1", "max_grad_norm must be positive, got -1"),
        ("max_grad_norm", "0", "max_grad_norm must be positive, got 0"),
        ("epsilon_start", "2", "epsilon_start must be in [0.0, 1.0], got 2"),
        ("epsilon_end", "-1", "epsilon_end must be in [0.0, 1.0], got -1"),
        ("epsilon_end", "0.5", "epsilon_end (0.5) is above epsilon_start (0.1)"),
        ("hidden_sizes", "[0,0,0]", "hidden_sizes[0] must be at least 1, got 0"),
        ("env_id", "Taxi-v4", "Taxi-v4 observes integer labels (Discrete(500))"),
        ("env_id", "FrozenLake-v1", "pass --model.init_args.one_hot_observations true"),
        ("one_hot_observations", "true", "one_hot_observations is for environments that observe integer labels"),
    ],
)
def test_nonsense_dqn_values_are_refused(option: str, value: str, expected: str, tmp_path: Path):
    extra = ["--model.init_args.epsilon_start", "0.1"] if option == "epsilon_end" and value == "0.5" else []
    args = cli_args("fit", "cartpole_dqn", tmp_path, *SHORT_DQN, f"--model.init_args.{option}", value, *extra)
    message = one_line_error(args)
    assert expected in message
    assert not (tmp_path / "cartpole_dqn").exists()


def test_one_hot_observations_feed_a_label_as_one_input_per_value():
    agent = DQN(env_id="Taxi-v4", one_hot_observations=True, learning_starts=1)
    observation, _ = agent.make_env().reset(seed=0)
    assert observation.shape == (500,) and observation.sum() == 1 and agent.example_input_array.shape == (1, 500)
    assert 0 <= agent.act(observation) < 6


@pytest.mark.parametrize(
    ("preset_name", "option", "value", "expected"),
    [
        ("tiny_net", "hidden", "0", "--model.init_args.hidden must be at least 1, got 0"),
        ("mnist_ann", "hidden_sizes", "[0,0,0]", "hidden_sizes must be at least 1 (entry 0 of (0, 0, 0)), got 0"),
        ("mnist_cnn", "channels", "[32,0]", "channels must be at least 1 (entry 1 of (32, 0)), got 0"),
    ],
)
def test_zero_width_layers_are_refused(preset_name: str, option: str, value: str, expected: str, tmp_path, mnist_dir):
    data = [] if preset_name == "tiny_net" else ["--data.data_dir", str(mnist_dir), "--data.val_size", "50"]
    args = cli_args(
        "fit", preset_name, tmp_path, *data, "--trainer.max_epochs", "1", f"--model.init_args.{option}", value
    )
    message = one_line_error(args)
    assert expected in message
    assert not (tmp_path / preset_name).exists()


def test_a_bad_precision_lists_the_accepted_values(tmp_path):
    message = one_line_error(tiny(tmp_path, "--trainer.precision", "8"))
    assert "trainer.precision must be one of 64, 32, 16, " in message and "bf16-mixed" in message
    assert message.endswith("got '8'") and "typing" not in message


# ---- SIGTERM during start-up --------------------------------------------------------------------------------

# A fit that receives SIGTERM in its setup hook: the run folder exists, Lightning's own handler is not in place yet.
SIGTERM_AT_SETUP = """
import os, signal, sys, time
import lightning as L
from cli import main

class SigtermAtSetup(L.Callback):
    def setup(self, trainer, pl_module, stage):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs as os.kill returns; without one, SIGTERM ends the process

args, sys.argv[1:] = sys.argv[1:], []  # LightningCLI warns when it is given both
main(args, callbacks=[SigtermAtSetup()])
"""


@pytest.mark.slow
def test_sigterm_during_start_up_says_so_and_leaves_no_run_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_AT_SETUP, *tiny(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 143, done.stderr[-2000:]
    assert "Stopped by SIGTERM; no resumable checkpoint was written." in done.stderr
    assert f"Removed the unfinished run folder {tmp_path / 'tiny_net/version_0'}" in done.stderr
    assert not (tmp_path / "tiny_net").exists()


def test_sigterm_handler_is_lightnings_during_training(tmp_path):
    # Once Lightning handles SIGTERM, the start-up handler only stands by: the run stops at a batch end with a
    # resumable checkpoint (training_runs/interrupts.py), not wherever the signal lands.
    class SigtermMidEpoch(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
            if trainer.current_epoch == 1 and batch_idx == 1:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.01)

    with pytest.raises(SystemExit) as info:
        main(tiny(tmp_path, "--trainer.max_epochs", "3"), callbacks=[SigtermMidEpoch()])
    assert info.value.code == 143
    saved = torch.load(tmp_path / "tiny_net/version_0/checkpoints/last.ckpt", weights_only=True)
    assert saved["global_step"] == 6  # written at the end of the batch the signal arrived in
