import lightning as L
import pytest
import torch

from datamodules import MNISTDataModule, TinyDataModule
from lightning_modules import ANN, CNN, LSTM, TinyNet
from lightning_modules.networks import RowLSTM
from lightning_modules.schedules import lr_multiplier
from tests.helpers import quiet_trainer


@pytest.mark.parametrize("model_class", [ANN, CNN, LSTM])
def test_image_classifiers_output_ten_logits(model_class):
    model = model_class()
    assert model(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    assert model(model.example_input_array).shape == (1, 10)


def test_architectures_match_their_descriptions():
    ann_linears = [m for m in ANN().net if isinstance(m, torch.nn.Linear)]
    assert ann_linears[0].in_features == 784 and len(ann_linears) == 4  # 3 hidden + output
    cnn = CNN().net
    assert sum(isinstance(m, torch.nn.Conv2d) for m in cnn.modules()) == 3
    assert sum(isinstance(m, torch.nn.Linear) for m in cnn.modules()) == 3
    lstm = LSTM().net
    assert isinstance(lstm, RowLSTM)
    assert (lstm.lstm.input_size, lstm.lstm.hidden_size, lstm.lstm.num_layers) == (28, 256, 2)
    assert lstm.lstm.dropout == pytest.approx(0.2)
    assert isinstance(lstm.classifier, torch.nn.Linear)


def test_cnn_blocks_can_hold_several_convolutions_before_each_pooling():
    net = CNN(block_depths=(1, 2, 2)).net
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 32), (32, 64), (64, 64), (64, 128), (128, 128)]
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in net.features) == 3  # still 28 -> 14 -> 7 -> 3
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    # One convolution per block is the default, and its parameter names stay those of older checkpoints.
    assert CNN(block_depths=(1, 1, 1)).state_dict().keys() == CNN().state_dict().keys()


@pytest.mark.parametrize("depths", [(1, 2), (1, 0, 1)])
def test_cnn_refuses_block_depths_that_do_not_fit_its_channels(depths):
    with pytest.raises(ValueError, match=r"block_depths must give a count >= 1 for each of the 3 blocks"):
        CNN(block_depths=depths)


def test_lstm_reads_rows_in_order():
    """Changing only the last row must change the output: the classifier sees the final step."""
    model = LSTM(hidden_size=8, num_layers=1, dropout=0.0).eval()
    images = torch.zeros(1, 1, 28, 28)
    changed = images.clone()
    changed[0, 0, -1] = 1.0
    assert not torch.allclose(model(images), model(changed))


def test_tiny_net_shapes():
    model = TinyNet()
    assert model(torch.randn(5, 3)).shape == (5, 2)
    assert sum(p.numel() for p in model.parameters()) == (3 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2)


@pytest.mark.parametrize(
    ("model_class", "epochs", "lr"),
    # The LSTM's fit is the longest (6 epochs of 28 row steps each): the full suite; the ANN and CNN learn in both.
    [(ANN, 4, 1e-3), (CNN, 4, 3e-3), pytest.param(LSTM, 6, 3e-3, marks=pytest.mark.slow)],
)
def test_image_classifier_learns_easy_digits(tmp_path, mnist_dir, model_class, epochs, lr):
    L.seed_everything(0)
    dm = MNISTDataModule(str(mnist_dir), val_size=50, batch_size=25, download=False)
    model = model_class(lr=lr)
    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=epochs)
    trainer.fit(model, datamodule=dm)
    (result,) = trainer.test(model, datamodule=dm, verbose=False)
    assert result["test/acc"] >= 0.9


def test_tiny_net_learns_separable_data(tmp_path):
    L.seed_everything(0)
    model = TinyNet(lr=0.03)
    dm = TinyDataModule(train_size=512)  # 8 steps an epoch; the test set keeps its 500 points
    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=5)
    trainer.fit(model, datamodule=dm)
    (result,) = trainer.test(model, datamodule=dm, verbose=False)
    assert result["test/acc"] >= 0.95


def test_logged_keys_follow_stage_slash_metric(tmp_path):
    model = TinyNet()
    # train/loss is written at the logger's cadence: every step here, so one short epoch shows it.
    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=1, log_every_n_steps=1)
    trainer.fit(model, datamodule=TinyDataModule(train_size=64, val_size=32, test_size=32))
    assert {"train/loss", "train/acc", "val/loss", "val/acc"} <= set(trainer.logged_metrics)


class StepLosses(L.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(outputs["loss"].item())


def test_runs_shorter_than_the_log_cadence_log_their_training_loss_at_the_epoch_end(tmp_path):
    model = TinyNet()
    losses = StepLosses()
    # 3 steps per epoch, the logger's cadence 50 steps: without the epoch-end log no train/loss at all
    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=2, callbacks=[losses])
    trainer.fit(model, datamodule=TinyDataModule(train_size=192, val_size=32, test_size=32))
    assert len(losses.losses) == 6
    # the mean over the steps since the last log: the second epoch's three
    assert trainer.logged_metrics["train/loss"].item() == pytest.approx(sum(losses.losses[3:]) / 3, rel=1e-6)


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_schedules_warm_up_then_anneal_to_zero(schedule):
    values = [lr_multiplier(step, 100, schedule, warmup_fraction=0.1) for step in range(101)]
    assert max(values) == pytest.approx(1.0)
    assert values[-1] == pytest.approx(0.0, abs=1e-6)
    assert values[50] > values[90]
    if schedule == "onecycle":
        assert values[0] == pytest.approx(0.1) and values[0] < values[5] < values[9]
    else:
        assert values[0] == pytest.approx(1.0)
    assert lr_multiplier(500, 100, schedule, 0.1) == pytest.approx(0.0, abs=1e-6)  # no error past the end


@pytest.mark.parametrize(
    ("optimizer", "scheduler", "optimizer_class"),
    [("adamw", "onecycle", torch.optim.AdamW), ("adam", "cosine", torch.optim.Adam), ("sgd", "none", torch.optim.SGD)],
)
def test_configured_optimizer_and_schedule_drive_the_learning_rate(tmp_path, optimizer, scheduler, optimizer_class):
    """The optimizer chosen by name is the one that steps, and the LR follows the schedule over the whole run."""
    model = TinyNet(optimizer=optimizer, scheduler=scheduler, lr=0.1, weight_decay=0.01)
    seen: list[float] = []

    class RecordLR(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=2, callbacks=[RecordLR()], limit_val_batches=0)
    trainer.fit(model, datamodule=TinyDataModule(train_size=320, batch_size=32))  # 10 steps per epoch
    (configured,) = trainer.optimizers
    assert type(configured) is optimizer_class and configured.param_groups[0]["weight_decay"] == 0.01
    assert len(seen) == 20
    if scheduler == "none":
        assert seen == [0.1] * 20
        assert configured.param_groups[0]["nesterov"] and configured.param_groups[0]["momentum"] == 0.9
    elif scheduler == "cosine":  # anneals from the full rate at the first step
        assert seen[0] == pytest.approx(0.1) and seen == sorted(seen, reverse=True) and seen[-1] < 0.01
    else:  # warms up for 10% of the 20 steps, then anneals
        assert seen[0] == pytest.approx(0.05) and max(seen) == pytest.approx(0.1) and seen[-1] < 0.01


@pytest.mark.parametrize("model_class", [ANN, CNN, LSTM])
def test_image_classifiers_normalise_raw_pixels_themselves(model_class):
    model = model_class(pixel_mean=0.2860, pixel_std=0.3530).eval()
    raw = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        from_uint8, from_floats = model(raw), model(raw.float() / 255)
        by_hand = model.net((raw.float() / 255 - 0.2860) / 0.3530)
    assert torch.allclose(from_uint8, from_floats, atol=1e-6) and torch.allclose(from_uint8, by_hand, atol=1e-6)
    assert "normalize.mean" not in model.state_dict()  # the statistics live in the hyper-parameters
    assert model.hparams.pixel_mean == 0.2860
