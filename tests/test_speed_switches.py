"""Speed switches on the CPU: cheap training statistics, mixed precision, compile, channels_last, LR scaling."""

import pytest
import torch
import torch.nn.functional as F

from cli import main
from datamodules import TinyDataModule
from lightning_modules import CNN, TinyNet
from tests.helpers import cli_args, quiet_trainer


def test_train_statistics_are_exact_without_per_step_metrics(tmp_path):
    """With a frozen network (lr 0), train/acc and train/loss must equal the network's own train-set values."""
    torch.manual_seed(0)
    model = TinyNet(lr=1e-3, scheduler="none")
    model.hparams.lr = 0.0  # frozen weights (the constructor refuses lr <= 0 as bad input, issue 7)
    data = TinyDataModule(train_size=64, val_size=16, test_size=16, batch_size=16)
    # 4 batches per epoch, logged every 4 steps: train/loss is the mean over the whole epoch.
    trainer = quiet_trainer(default_root_dir=tmp_path, max_epochs=1, log_every_n_steps=4)
    trainer.fit(model, datamodule=data)
    inputs, targets = data.sets["train"].tensors
    with torch.no_grad():
        logits = model(inputs)
    expected_acc = (logits.argmax(dim=-1) == targets).float().mean()
    assert trainer.logged_metrics["train/acc"] == pytest.approx(expected_acc.item())
    assert trainer.logged_metrics["train/loss"] == pytest.approx(F.cross_entropy(logits, targets).item(), rel=1e-5)
    assert "train_acc" not in model.metrics  # no torchmetrics object updated per training step


@pytest.mark.parametrize(("rule", "factor"), [("linear", 4.0), ("sqrt", 2.0), ("none", 1.0)])
def test_lr_scales_with_the_linked_batch_size(tmp_path, rule, factor):
    extra = ["--data.batch_size", "64", "--model.init_args.lr_scaling", rule, "--model.init_args.scheduler", "none"]
    extra += ["--model.init_args.reference_batch_size", "16", "--trainer.max_steps", "1"]
    cli = main(cli_args("fit", "tiny_net", tmp_path, *extra))
    assert cli.model.hparams.batch_size == 64  # linked from the data module
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.03 * factor)


# 16-mixed needs a GPU: on the CPU Lightning warns and runs bf16-mixed (tests/test_gpu.py covers the GPU).
@pytest.mark.parametrize(("precision", "runs_as"), [("bf16-mixed", "bf16-mixed"), ("16-mixed", "bf16-mixed")])
@pytest.mark.filterwarnings("ignore:You passed `Trainer\\(accelerator='cpu', precision='16-mixed'\\)`")
def test_mixed_precision_trains_the_cnn(tmp_path, mnist_dir, precision, runs_as):
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    extra = ["--trainer.precision", precision, "--trainer.max_epochs", "1", "--data.augment", "false"]
    cli = main(cli_args("fit", "mnist_cnn", tmp_path, *data, *extra))
    assert cli.trainer.precision == runs_as
    assert torch.isfinite(cli.trainer.callback_metrics["val/loss"])
    assert all(p.dtype == torch.float32 for p in cli.model.parameters())  # autocast: weights stay float32


def test_channels_last_cnn_computes_the_same_function():
    torch.manual_seed(0)
    plain = CNN(channels_last=False).eval()
    fast = CNN(channels_last=True).eval()
    fast.load_state_dict(plain.state_dict())
    conv = fast.net.features[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert plain.net.features[0].weight.is_contiguous()  # NCHW
    assert CNN().hparams.channels_last  # on by default: faster on the CPU as well (docs/results.md)
    images = torch.randn(8, 1, 28, 28)
    torch.testing.assert_close(fast(images), plain(images), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_compiled_network_trains_and_keeps_checkpoint_keys(tmp_path):
    torch.manual_seed(0)
    model = TinyNet(compile=True)
    eager_keys = set(TinyNet().state_dict())
    trainer = quiet_trainer(default_root_dir=tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, datamodule=TinyDataModule(train_size=96, batch_size=32))
    assert model.net._compiled_call_impl is not None  # nn.Module.compile() in place
    assert set(model.state_dict()) == eager_keys  # checkpoints load with and without compile
    eager = TinyNet()
    eager.load_state_dict(model.state_dict())
    inputs = torch.randn(32, 3)
    torch.testing.assert_close(model(inputs), eager(inputs), rtol=1e-5, atol=1e-6)
