"""Exact resume: a run stopped (at an epoch boundary or mid-epoch) and resumed with --ckpt_path last ends with
the same weights, optimizer and scheduler state, metrics, data order and (agents) replay buffer, counters and
environment, bit for bit, as a run never stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.demos.boring_classes import BoringModel
from torch.utils.data import DataLoader, TensorDataset

from cli import CLI, main
from datamodules.device_data import DeviceBatchLoader, EpochOrder
from datamodules.epoch_sampler import EpochShuffleSampler, PositionedSequentialSampler
from lightning_classics.runs.epoch_position import position_owner
from lightning_classics.runs.resume import ResumeState
from rl.dqn.replay import Batch
from rl.dqn.stream import ExperienceStream
from tests.helpers import QUIET, quiet_trainer
from tests.helpers import preset as preset_path  # `preset` names the parametrized preset below


class RecordBatches(L.Callback):
    """Keeps what tells the training batches apart, in order: the data order (labels, actions, episodes); and the
    training metrics of every step on which the logger writes (means since the previous log, for the DQN)."""

    def __init__(self) -> None:
        self.batches: list[object] = []
        self.logged: dict[int, dict[str, float]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        item = batch[1] if isinstance(batch, tuple | list) else batch  # labels, a Batch's actions, an episode number
        self.batches.append(torch.as_tensor(item).tolist())

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % trainer.log_every_n_steps == 0:
            metrics = trainer.callback_metrics.items()
            self.logged[trainer.global_step] = {k: v.item() for k, v in metrics if k.startswith("train/")}


class CrashInValidation(L.Callback):
    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            raise RuntimeError("simulated crash")


class CrashAfterBatches(L.Callback):
    def __init__(self, batches: int) -> None:
        self.batches = batches

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches -= 1
        if self.batches == 0:
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
    # 20 updates per epoch after a 50-step warm-up; 2 greedy evaluation episodes; the training loss and episode
    # returns logged every 5 steps, as means since the last log (a mid-epoch checkpoint falls between two logs)
    "cartpole_dqn": [
        *["--model.init_args.steps_per_epoch", "20", "--model.init_args.learning_starts", "50"],
        *["--trainer.log_every_n_steps", "5"],
        # a target update every 3 updates: the mid-epoch checkpoint (after update 3) falls on one
        *["--model.init_args.target_update_interval", "3"],
        *["--model.init_args.val_episodes", "2", "--model.init_args.stop_return", "null"],
        # a learning rate that decays over the run: a resumed run must go on from its place on the schedule
        *["--model.init_args.lr_end", "1e-4"],
    ],
    # 6 steps of 10 episodes per epoch; 20 greedy evaluation episodes
    "taxi_qlearning": ["--model.init_args.episodes_per_epoch", "60", "--model.init_args.val_episodes", "20"],
}
ON_DEVICE = ["--data.on_device", "true"]
EMA = ["--trainer.callbacks+=EMAWeightAveraging", "--trainer.callbacks.decay", "0.9"]
BATCHES_PER_EPOCH = {"tiny_net": 4, "cartpole_dqn": 20, "taxi_qlearning": 6}  # the MNIST presets: 5


def preset_args(preset: str, mnist_dir: Path, runs: Path, *extra: str) -> list[str]:
    common = ["fit", "--config", preset_path(preset), "--runs_dir", str(runs), *QUIET]
    common += ["--trainer.deterministic", "true", "--trainer.max_epochs", "2", "--seed_everything", "3"]
    # The preset's model class with narrower layers or shorter epochs: the same code paths (dropout, batch norm,
    # augmentation, one-cycle schedule, replay, exploration), a fraction of the arithmetic.
    common += SMALLER.get(preset, [])
    if preset == "tiny_net":  # 4 batches of 64 per epoch
        common += ["--data.train_size", "256", "--data.val_size", "64"]
    elif preset.startswith("mnist"):  # 5 batches of 50 per epoch
        common += ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    return [*common, *extra]


def state_of(cli: CLI) -> dict[str, object]:
    trainer = cli.trainer
    state = {
        "weights": cli.model.state_dict(),
        "optimizers": [optimizer.state_dict() for optimizer in trainer.optimizers],
        "schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
        # every logged value except throughput, which is wall-clock time
        "metrics": {k: v for k, v in trainer.callback_metrics.items() if not k.endswith("_per_s")},
        "step": trainer.global_step,
    }
    extra: dict[str, object] = {}
    cli.model.on_save_checkpoint(extra)  # the agents' replay buffer, counters, environment and RNG states
    return {**state, **extra}


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


# Every preset on its training data path(s): a DataLoader with EpochShuffleSampler, and for MNIST also the
# device-resident loader (the default on a GPU), here on the CPU through the same code. The CNN (dropout, batch
# norm, augmentation, one-cycle schedule) on both paths is in the fast suite; the rest in the full one.
_slow = pytest.mark.slow
DATA_PATHS = [
    pytest.param("mnist_cnn", [], id="mnist_cnn"),
    pytest.param("mnist_cnn", ON_DEVICE, id="mnist_cnn-on_device"),
    *[pytest.param(name, [], id=name, marks=_slow) for name in ("mnist_ann", "mnist_lstm")],
    *[pytest.param(name, ON_DEVICE, id=f"{name}-on_device", marks=_slow) for name in ("mnist_ann", "mnist_lstm")],
    *[pytest.param(name, [], id=name, marks=_slow) for name in ("tiny_net", "cartpole_dqn", "taxi_qlearning")],
    # the agent with an exponential moving average of its weights (Lightning's EMAWeightAveraging, as in
    # lunarlander_dqn.yaml): the checkpoint holds the average as its weights and the trained ones beside them
    pytest.param("cartpole_dqn", EMA, id="cartpole_dqn-ema", marks=_slow),
]


@pytest.mark.parametrize(("preset", "data_path"), DATA_PATHS)
def test_stopped_and_resumed_equals_uninterrupted(preset, data_path, tmp_path, mnist_dir, monkeypatch):
    straight_order = RecordBatches()
    straight_args = preset_args(preset, mnist_dir, tmp_path / "straight", *data_path)
    straight = state_of(run_with(monkeypatch, straight_args, straight_order))
    per_epoch = BATCHES_PER_EPOCH.get(preset, 5)

    # Mid-epoch: a checkpoint every 3 batches, a crash after batch 4, resumed after batch 3 (inside epoch 0).
    # Epoch boundary: no mid-epoch checkpoints, a crash after the first batch of epoch 1, resumed from epoch 0's end.
    scenarios: list[tuple[str, int, L.Callback]] = [
        ("mid", 3, CrashAfterBatches(4)),
        ("boundary", 0, CrashAfterBatches(per_epoch + 1)),
    ]
    if preset in ("tiny_net", "cartpole_dqn"):
        # Killed in the first validation, with a checkpoint due every half epoch: the last one is from mid-epoch,
        # not from after the epoch's last batch (that one would sit before the validation's RNG draws).
        scenarios.append(("in validation", per_epoch // 2, CrashInValidation()))
    for name, every, crash in scenarios:
        runs = tmp_path / name
        args = preset_args(preset, mnist_dir, runs, *data_path, "--checkpoint_every_n_steps", str(every))
        before = RecordBatches()
        with pytest.raises(SystemExit, match="simulated crash"):
            run_with(monkeypatch, args, before, crash)
        saved = torch.load(runs / preset / "version_0/checkpoints/last.ckpt", weights_only=True)
        position = saved["callbacks"]["ResumeState"]
        done = position["epoch"] * per_epoch + position["batches_done"]
        assert done == (every or per_epoch), name

        after = RecordBatches()
        resumed = state_of(run_with(monkeypatch, [*args, "--ckpt_path", "last"], after))
        # The resumed run sees exactly the batches the uninterrupted run saw after the checkpoint, in order
        # (with the one-cycle schedule reading estimated_stepping_batches, cf. Lightning issue 20550).
        assert before.batches[:done] + after.batches == straight_order.batches, name
        # What the resumed run logs equals what the uninterrupted run logged at the same steps, including the
        # first logs after the checkpoint (averages that began before it). Throughput is wall-clock time.
        for step, logged in after.logged.items():
            for key, value in logged.items():
                assert key.endswith("_per_s") or straight_order.logged[step][key] == value, (name, step, key)
        assert_identical(resumed, straight, name)


def test_every_training_loader_exposes_one_position_part():
    images, labels = torch.arange(40).view(20, 2), torch.arange(20)
    shuffled = EpochShuffleSampler(20, seed=1)
    by_sample = DataLoader(TensorDataset(images, labels), batch_size=4, sampler=shuffled)
    sequential = PositionedSequentialSampler(6)
    by_chunk = DataLoader(list(range(6)), batch_size=None, sampler=sequential)
    on_device = DeviceBatchLoader(images, labels, batch_size=4, order=EpochOrder(20, shuffle=True, seed=1))
    stream = ExperienceStream(lambda: None, lambda: Batch(*[torch.zeros(1)] * 6), length=5)
    assert position_owner(by_sample) == (shuffled, 4)  # the sampler counts samples: 4 per batch
    assert position_owner(by_chunk) == (sequential, 1)
    assert position_owner(on_device) == (on_device, 1)
    assert position_owner(DataLoader(stream, batch_size=None)) == (stream, 1)
    assert position_owner(DataLoader(TensorDataset(images))) is None  # torch's own sampler

    shuffled.set_position(epoch=2, done=8)
    assert list(shuffled) == shuffled.order(2)[8:].tolist()
    assert list(shuffled) == shuffled.order(2).tolist()  # the start applies to one pass only
    sequential.set_position(epoch=0, done=4)
    assert list(by_chunk) == [4, 5]
    whole = [y.tolist() for _, y in on_device]
    on_device.set_position(epoch=0, done=3)
    assert [y.tolist() for _, y in on_device] == whole[3:]
    on_device.set_position(epoch=1, done=0)
    assert [y.tolist() for _, y in on_device] != whole


def test_experience_stream_resumes_after_the_batches_done_and_acts_one_batch_ahead():
    made: list[int] = []

    def draw() -> Batch:
        made.append(len(made))
        return Batch(*[torch.tensor([len(made) - 1])] * 6)

    stream = ExperienceStream(lambda: None, draw, length=5)
    stream.set_position(epoch=0, done=2)
    handed = []
    for batch in stream:
        handed.append(int(batch.observations))
        assert len(made) == min(len(handed) + 1, 3)  # the next batch is made before this one is trained on
        stream.taken()
    assert handed == [0, 1, 2]  # 5 - 2 batches
    assert len(list(stream)) == 5  # the next pass is whole


class PlainBatches:
    """A training loader with a length and no set_position: batch i is filled with i."""

    def __len__(self) -> int:
        return 6

    def __iter__(self) -> Iterator[torch.Tensor]:
        return (torch.full((2, 32), float(i)) for i in range(6))


class PlainBatchesModel(BoringModel):
    def train_dataloader(self) -> PlainBatches:  # type: ignore[override]
        return PlainBatches()


def test_a_loader_without_a_position_warns_in_one_line_and_starts_the_epoch_over(tmp_path):
    class Seen(L.Callback):
        def __init__(self) -> None:
            self.firsts: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.firsts.append(float(batch[0, 0]))

    def fit(seen: Seen, ckpt_path: str | None = None, **kwargs) -> None:
        checkpoint = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=2, save_top_k=-1)
        callbacks = [seen, ResumeState(), checkpoint]
        trainer = quiet_trainer(callbacks=callbacks, enable_checkpointing=True, max_epochs=1, **kwargs)
        trainer.fit(PlainBatchesModel(), ckpt_path=ckpt_path)

    fit(Seen(), max_steps=2)
    resumed = Seen()
    with pytest.warns(UserWarning, match="^the training loader cannot start mid-epoch: no part of PlainBatches has "):
        fit(resumed, ckpt_path=str(tmp_path / "epoch=0-step=2.ckpt"))
    assert resumed.firsts == [0.0, 1.0, 2.0, 3.0]  # the epoch's data from its start, up to its 6 batches


def test_a_device_path_checkpoint_of_an_earlier_version_resumes_mid_epoch(tmp_path, mnist_dir, monkeypatch):
    # Earlier versions also put the device loader's position into Lightning's loop state, which Lightning restores
    # mid-epoch when configure_optimizers does not read estimated_stepping_batches (no one-cycle schedule).
    args = preset_args("mnist_ann", mnist_dir, tmp_path, *ON_DEVICE, "--checkpoint_every_n_steps", "3")
    args += ["--model.init_args.scheduler", "none"]
    with pytest.raises(SystemExit, match="simulated crash"):
        run_with(monkeypatch, args, CrashAfterBatches(4))
    last = tmp_path / "mnist_ann" / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=True)
    assert saved["callbacks"]["ResumeState"]["batches_done"] == 3  # mid-epoch
    saved["loops"]["fit_loop"]["state_dict"]["combined_loader"] = [{"epoch": 0, "batches_done": 3}]
    torch.save(saved, last)
    resumed = run_with(monkeypatch, [*args, "--ckpt_path", "last"])
    assert resumed.trainer.global_step == 10  # 2 epochs of 5 batches
