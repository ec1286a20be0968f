"""The device-resident data path, on the CPU through the same code a GPU run takes."""

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from cli import main
from datamodules import MNISTDataModule
from datamodules.device_data import DeviceBatchLoader, EpochOrder
from lightning_classics.runs.resume import ResumeState
from lightning_modules import ANN
from tests.helpers import cli_args, quiet_trainer


def test_epoch_order_shards_are_disjoint_equal_and_change_by_epoch():
    shards = [EpochOrder(10, shuffle=True, seed=3, rank=r, world_size=3) for r in range(3)]
    drawn = [s.indices(torch.device("cpu")) for s in shards]
    assert [len(d) for d in drawn] == [4, 4, 4]  # 10 padded to 12: every process takes the same steps
    assert set(torch.cat(drawn).tolist()) == set(range(10))
    assert len(set(torch.cat([d[:3] for d in drawn]).tolist())) == 9  # before the padding: no overlap
    first = shards[0].indices(torch.device("cpu"))
    assert torch.equal(first, drawn[0])  # same epoch, same order (resumable)
    shards[0].epoch = 1
    assert not torch.equal(shards[0].indices(torch.device("cpu")), first)


def test_eval_shards_count_each_example_once():
    shards = [EpochOrder(10, shuffle=False, seed=0, rank=r, world_size=3) for r in range(3)]
    drawn = torch.cat([s.indices(torch.device("cpu")) for s in shards])
    assert sorted(drawn.tolist()) == list(range(10))


def test_loader_gathers_batches_of_the_device_tensors():
    images, labels = torch.arange(50).view(10, 5), torch.arange(10)
    loader = DeviceBatchLoader(images, labels, batch_size=4, order=EpochOrder(10, shuffle=True, seed=0))
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for x, y in batches:
        assert torch.equal(x, images[y])  # rows stay paired with their labels


def test_cli_trains_with_the_data_on_the_device(tmp_path, mnist_dir):
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    cli = main(cli_args("fit", "mnist_ann", tmp_path, *data, "--data.on_device", "true", "--trainer.max_epochs", "3"))
    assert isinstance(cli.trainer.train_dataloader, DeviceBatchLoader)
    assert cli.trainer.callback_metrics["val/acc"] >= 0.5
    automatic = MNISTDataModule(data_dir=str(mnist_dir), val_size=50)
    automatic.trainer = quiet_trainer()
    automatic.setup("fit")
    assert isinstance(automatic.train_dataloader(), DataLoader)  # automatic: off on the CPU


class BatchRecorder(L.Callback):
    def __init__(self) -> None:
        self.labels: list[list[int]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self.labels.append(batch[1].tolist())


def test_run_stopped_mid_epoch_resumes_with_the_batches_it_had_not_seen(tmp_path, mnist_dir):
    def fit(recorder: BatchRecorder, ckpt_path: str | None = None, *callbacks: L.Callback, **trainer_kwargs) -> None:
        L.seed_everything(0)
        data = MNISTDataModule(data_dir=str(mnist_dir), val_size=50, batch_size=50, on_device=True)
        model = ANN(hidden_sizes=(16, 16, 16))
        # ResumeState: the one way a loader learns its epoch and where a resumed epoch starts
        callbacks = (recorder, ResumeState(), *callbacks)
        trainer = quiet_trainer(default_root_dir=tmp_path, callbacks=list(callbacks), **trainer_kwargs)
        trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)

    whole = BatchRecorder()
    fit(whole, max_epochs=2)
    first, rest = BatchRecorder(), BatchRecorder()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=3, save_top_k=-1)
    fit(first, None, checkpoint, max_epochs=2, max_steps=3, enable_checkpointing=True)
    fit(rest, ckpt_path=str(tmp_path / "ckpt" / "epoch=0-step=3.ckpt"), max_epochs=2)
    assert len(whole.labels) == 10  # 250 training images in batches of 50, two epochs
    assert whole.labels[:5] != whole.labels[5:]  # a new order in the second epoch
    assert first.labels + rest.labels == whole.labels
