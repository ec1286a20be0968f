"""Fused optimizer steps wherever Lightning and torch allow them, torch's default elsewhere."""

import pytest
import torch

from cli import main
from lightning_classics.runs.fused_optimizers import build_optimizer
from lightning_modules import TinyNet
from tests.helpers import cli_args

# One epoch of 4 batches (the preset has 32): what is checked is the optimizer each run built and stepped.
ONE_EPOCH = ["--trainer.max_epochs", "1", "--data.train_size", "256", "--data.val_size", "64"]
MIXED_PRECISION_WARNING = "ignore:You passed `Trainer\\(accelerator='cpu', precision='16-mixed'\\)`"


def fused(optimizer: torch.optim.Optimizer) -> bool:
    return bool(optimizer.defaults.get("fused"))


@pytest.mark.parametrize("name", ["adamw", "adam", "sgd"])
def test_classifier_steps_with_a_fused_optimizer_on_the_cpu(tmp_path, name):
    cli = main(cli_args("fit", "tiny_net", tmp_path, "--model.init_args.optimizer", name, *ONE_EPOCH))
    assert fused(cli.trainer.optimizers[0])
    assert cli.trainer.global_step > 0


# On the CPU Lightning turns 16-mixed into bf16-mixed with a warning; both are its MixedPrecision plugin.
@pytest.mark.filterwarnings(MIXED_PRECISION_WARNING)
@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_with_gradient_clipping_steps_unfused(tmp_path, precision):
    """Lightning refuses to clip under mixed precision with a fused optimizer (RuntimeError): the step falls back."""
    extra = ["--trainer.precision", precision, "--trainer.gradient_clip_val", "1.0", *ONE_EPOCH]
    cli = main(cli_args("fit", "tiny_net", tmp_path, *extra))
    assert not fused(cli.trainer.optimizers[0])
    assert torch.isfinite(cli.trainer.callback_metrics["val/loss"])


def test_mixed_precision_without_clipping_and_clipping_alone_stay_fused(tmp_path):
    for extra in (["--trainer.precision", "bf16-mixed"], ["--trainer.gradient_clip_val", "1.0"]):
        cli = main(cli_args("fit", "tiny_net", tmp_path, *extra, *ONE_EPOCH))
        assert fused(cli.trainer.optimizers[0]), extra


def test_fused_and_default_steps_train_alike():
    """Same seed, same data: fused AdamW follows the per-tensor loop's trajectory (up to float rounding)."""
    finals = []
    for fuse in (True, False):
        torch.manual_seed(0)
        model = TinyNet(scheduler="none")
        optimizer = build_optimizer(torch.optim.AdamW, model.parameters(), fuse, lr=0.03, weight_decay=1e-4)
        assert fused(optimizer) == fuse
        inputs, targets = torch.randn(64, 3), torch.randint(0, 2, (64,))
        for _ in range(20):
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        finals.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(finals[0], finals[1], rtol=1e-4, atol=1e-5)


def test_a_device_without_fused_kernels_gets_the_default_optimizer():
    calls = []

    def factory(params, fused: bool = False, **kwargs):
        calls.append(fused)
        if fused:  # what torch raises for parameters on a device it has no fused kernels for
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return torch.optim.Adam(params, **kwargs)

    params = (p for p in TinyNet().parameters())  # a generator: consumed once, yet both attempts see every tensor
    optimizer = build_optimizer(factory, params, True, lr=0.1)
    assert calls == [True, False]
    assert len(optimizer.param_groups[0]["params"]) == len(list(TinyNet().parameters()))


@pytest.mark.parametrize(("precision", "fused_step"), [("32-true", True), ("bf16-mixed", False)])
def test_dqn_clips_its_gradients_at_each_precision(tmp_path, precision, fused_step):
    """Its always-fused Adam used to make Lightning refuse the clipping under bf16-mixed (RuntimeError)."""
    extra = ["--trainer.precision", precision, "--trainer.max_epochs", "1", "--model.steps_per_epoch", "5"]
    extra += ["--model.learning_starts", "64", "--model.batch_size", "16", "--model.val_episodes", "1"]
    cli = main(cli_args("fit", "cartpole_dqn", tmp_path, *extra))
    assert cli.model.hparams.max_grad_norm  # clipping on, as shipped
    assert fused(cli.trainer.optimizers[0]) == fused_step
    assert cli.trainer.global_step == 5
