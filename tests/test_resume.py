"""Exact resume: a run stopped (at an epoch boundary or mid-epoch) and resumed with --ckpt_path last ends with
the same weights, optimizer and scheduler state, metrics and data order, bit for bit, as a run never stopped."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from cli import CLI, main
from tests.helpers import QUIET
from tests.helpers import preset as preset_path  # `preset` names the parametrized preset below


class RecordBatches(L.Callback):
    """Keeps the labels of every training batch, in order: the data order and its augmentation draws."""

    def __init__(self) -> None:
        self.labels: list[list[int]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.labels.append(batch[1].tolist())


class CrashAfterStep(L.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise RuntimeError("simulated crash")


def run_with(monkeypatch, args: list[str], *callbacks: L.Callback) -> CLI:
    original = CLI.after_instantiate_classes

    def with_callbacks(self: CLI) -> None:
        original(self)
        self.trainer.callbacks.extend(callbacks)

    with monkeypatch.context() as patch:
        patch.setattr(CLI, "after_instantiate_classes", with_callbacks)
        return main(args)


SMALLER = {
    "mnist_ann": ["--model.init_args.hidden_sizes", "[64, 32, 32]"],
    "mnist_cnn": ["--model.init_args.channels", "[8, 8, 16]", "--model.init_args.hidden_sizes", "[32, 32]"],
    "mnist_lstm": ["--model.init_args.hidden_size", "32"],
}


def preset_args(preset: str, mnist_dir: Path, runs: Path, *extra: str) -> list[str]:
    common = ["fit", "--config", preset_path(preset), "--runs_dir", str(runs), *QUIET]
    common += ["--trainer.deterministic", "true", "--trainer.max_epochs", "2", "--seed_everything", "3"]
    # The preset's model class with narrower layers: the same code paths (dropout, batch norm, augmentation,
    # one-cycle schedule), a fraction of the arithmetic.
    common += SMALLER.get(preset, [])
    if preset == "tiny_net":  # 4 batches of 64 per epoch
        data = ["--data.train_size", "256", "--data.val_size", "64"]
    else:  # 5 batches of 50 per epoch
        data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    return [*common, *data, *extra]


def state_of(cli: CLI) -> dict[str, object]:
    trainer = cli.trainer
    return {
        "weights": cli.model.state_dict(),
        "optimizer": trainer.optimizers[0].state_dict(),
        "schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
        "metrics": dict(trainer.callback_metrics),
        "step": trainer.global_step,
    }


def assert_identical(a: object, b: object, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif callable(a):  # LambdaLR keeps its schedule function in its state
        return
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["mnist_ann", "mnist_cnn", "mnist_lstm", "tiny_net"])
def test_stopped_and_resumed_equals_uninterrupted(preset, tmp_path, mnist_dir, monkeypatch):
    straight_order = RecordBatches()
    straight = state_of(run_with(monkeypatch, preset_args(preset, mnist_dir, tmp_path / "straight"), straight_order))
    steps_per_epoch = straight["step"] // 2

    # Mid-epoch: a checkpoint every 3 steps, a crash after step 4, resumed from step 3 (inside epoch 0).
    # Epoch boundary: no step checkpoints, a crash after the first step of epoch 1, resumed from the epoch's end.
    for name, every, crash in (("mid", 3, 4), ("boundary", 0, steps_per_epoch + 1)):
        runs = tmp_path / name
        args = preset_args(preset, mnist_dir, runs, "--checkpoint_every_n_steps", str(every))
        before = RecordBatches()
        with pytest.raises(SystemExit, match="simulated crash"):
            run_with(monkeypatch, args, before, CrashAfterStep(crash))
        saved_step = torch.load(runs / preset / "version_0/checkpoints/last.ckpt", weights_only=True)["global_step"]
        assert saved_step == (3 if every else steps_per_epoch)

        after = RecordBatches()
        resumed = state_of(run_with(monkeypatch, [*args, "--ckpt_path", "last"], after))
        # The resumed run sees exactly the batches the uninterrupted run saw after the checkpoint, in order
        # (with the one-cycle schedule reading estimated_stepping_batches, cf. Lightning issue 20550).
        assert before.labels[:saved_step] + after.labels == straight_order.labels, name
        assert_identical(resumed, straight, name)
