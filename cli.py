"""Command line for every workload: ``python cli.py fit|validate|test|predict --config configs/<preset>.yaml``.

Models and data are chosen in YAML (or with ``--model CNN --data MNISTDataModule``); see
``python cli.py fit --help`` and ``python cli.py fit --model.help CNN`` for every option.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities import rank_zero_info

# Imported so that LightningCLI knows every model and data module by its short name.
import datamodules  # noqa: F401
import inference.prediction_table as prediction_table
import lightning_modules  # noqa: F401
import rl  # noqa: F401
from callbacks import BestMetricAsHpMetric, LearningRateCurve, TestPictures
from datamodules import DataNotFoundError
from inference.preprocess import ImageInputError

# lightning 2.6's own CLI code calls jsonargparse APIs deprecated in jsonargparse 4.49; the
# warnings are about Lightning's code, not the user's, so they only add noise.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
# Likewise lightning 2.6 calls a torch pytree API that torch 2.14 deprecates, once per run.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
# Tabular Q-learning updates its table by hand: having no optimizer is its design, not a mistake.
warnings.filterwarnings("ignore", message=r"`LightningModule.configure_optimizers` returned `None`")
# CartPole-v0 (200-step episodes) is the environment the project is about; the README says v1 exists.
warnings.filterwarnings("ignore", message=r".*The environment CartPole-v0 is out of date", category=DeprecationWarning)


class _DropLightningNoise(logging.Filter):
    """Lightning's start-up lines that say nothing about this run: no GPU/TPU here, ads for its cloud, internals."""

    NOISE = ("💡 Tip:", "GPU available: False", "TPU available: False", "Loading `train_dataloader` to estimate")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropLightningNoise())


EVAL_SUBCOMMANDS = ("validate", "test", "predict")
PROGRESS_BAR_REFRESH_RATE = 20  # batches between redraws; each redraw formats the metrics (BENCHMARKS.md)


class CheckpointNotFoundError(FileNotFoundError):
    """``--ckpt_path best|last`` names a checkpoint this run does not have."""


def checkpoint_dir(runs_dir: str, run_name: str) -> str:
    """Checkpoints of a run live in one fixed folder, so ``--ckpt_path last`` finds them again."""
    return str(Path(runs_dir) / run_name / "checkpoints")


def run_dir(runs_dir: str, run_name: str) -> str:
    return str(Path(runs_dir) / run_name)


class LatestCheckpoint(ModelCheckpoint):
    """Keeps ``last.ckpt`` at the end of the latest epoch, whether or not that epoch was the best.

    (``ModelCheckpoint(save_last=True)`` only rewrites ``last.ckpt`` when a top-k checkpoint was
    saved in the same epoch, so ``--ckpt_path last`` could resume from an older epoch.)
    """

    def __init__(self, dirpath: str | None = None) -> None:
        super().__init__(dirpath=dirpath, filename=self.CHECKPOINT_NAME_LAST, monitor=None, save_top_k=1)


def hide_version_number(bar: ProgressBar) -> None:
    """The progress bar shows ``v_num``, the number of the log folder, which says nothing about training: drop it."""
    get_metrics = bar.get_metrics

    def metrics_without_version(trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        metrics = get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics

    bar.get_metrics = metrics_without_version  # type: ignore[method-assign]


class CLI(LightningCLI):
    """LightningCLI with per-run folders, a best/last ModelCheckpoint and readable summaries."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--run_name", default="default", help="Name of the run: outputs go to <runs_dir>/<run_name>/."
        )
        parser.add_argument("--runs_dir", default="runs", help="Folder that holds one sub-folder per run.")
        parser.add_argument(
            "--progress_bar_refresh_rate",
            type=int,
            default=PROGRESS_BAR_REFRESH_RATE,
            help="Redraw the progress bar every N batches (Lightning's default of 1 costs small models ~5%% of their speed).",
        )
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": None,  # the model's own `checkpoint_metric`, see before_instantiate_classes
                "checkpoint.mode": "max",
                "checkpoint.filename": "best",  # one file, replaced when the monitored value improves
                "checkpoint.enable_version_counter": False,
            }
        )
        parser.add_lightning_class_args(LatestCheckpoint, "last_checkpoint")
        # Pictures after `test` (classifiers only), the learning-rate curve and a real hp_metric in TensorBoard.
        parser.add_lightning_class_args(TestPictures, "test_pictures")
        parser.add_lightning_class_args(LearningRateCurve, "lr_curve")
        parser.add_lightning_class_args(BestMetricAsHpMetric, "hp_metric")
        for group in ("checkpoint", "last_checkpoint"):
            parser.link_arguments(("runs_dir", "run_name"), f"{group}.dirpath", compute_fn=checkpoint_dir)
        parser.link_arguments(("runs_dir", "run_name"), "trainer.default_root_dir", compute_fn=run_dir)
        # Data facts flow into the model; a link is skipped when the model has no such argument (e.g. RL agents).
        for fact in ("num_classes", "image_shape", "num_features", "batch_size", "pixel_mean", "pixel_std"):
            parser.link_arguments(f"data.{fact}", f"model.init_args.{fact}", apply_on="instantiate")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with a progress bar that redraws every ``--progress_bar_refresh_rate`` batches (no ``v_num``)."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer_config = config["trainer"]
        callbacks = trainer_config.get("callbacks") or []
        has_bar = any(isinstance(c, ProgressBar) for c in callbacks)
        if trainer_config.get("enable_progress_bar") is not False and not has_bar and "callbacks" not in kwargs:
            kwargs["callbacks"] = [*callbacks, TQDMProgressBar(refresh_rate=config["progress_bar_refresh_rate"])]
        trainer = super().instantiate_trainer(**kwargs)
        if trainer.progress_bar_callback is not None:
            hide_version_number(trainer.progress_bar_callback)
        return trainer

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        if config.checkpoint.monitor is None:
            # Classifiers are judged by val/acc, agents by val/mean_return: each model class says which.
            module_name, _, class_name = config.model.class_path.rpartition(".")
            model_class = getattr(importlib.import_module(module_name), class_name)
            if not hasattr(model_class, "checkpoint_metric"):
                raise ValueError(
                    f"{class_name} has no `checkpoint_metric` class attribute naming the metric that picks the best "
                    "checkpoint: add one, or pass --checkpoint.monitor KEY"
                )
            config.checkpoint.monitor = model_class.checkpoint_metric
        if self.subcommand in EVAL_SUBCOMMANDS:
            config.ckpt_path = self._resolve_checkpoint(config.ckpt_path, config.checkpoint)

    @staticmethod
    def _resolve_checkpoint(ckpt_path: str | None, checkpoint) -> str | None:
        """``best``/``last`` name the files this run's ModelCheckpoint keeps; fail clearly if absent."""
        if ckpt_path not in ("best", "last"):
            return ckpt_path
        name = checkpoint.filename if ckpt_path == "best" else ModelCheckpoint.CHECKPOINT_NAME_LAST
        path = Path(checkpoint.dirpath) / f"{name}{ModelCheckpoint.FILE_EXTENSION}"
        if not path.is_file():
            raise CheckpointNotFoundError(
                f"no '{ckpt_path}' checkpoint at {path}: train this run first (`cli.py fit` with the same "
                f"--config/--run_name) or pass --ckpt_path PATH"
            )
        return str(path)

    def after_fit(self) -> None:
        callbacks = [c for c in self.trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
        last = next(c for c in callbacks if isinstance(c, LatestCheckpoint))
        best = next(c for c in callbacks if not isinstance(c, LatestCheckpoint))
        score = best.best_model_score
        rank_zero_info(
            f"Best checkpoint: {best.best_model_path or '(none)'}"
            + (f" ({best.monitor} = {score.item():.4f})" if score is not None else "")
            + f"\nLast checkpoint: {last.best_model_path or '(none)'}"
            + f"\nLogs: {self.trainer.log_dir}  (tensorboard --logdir {self.trainer.default_root_dir})"
        )

    def after_test(self) -> None:
        metrics = {k: round(v.item(), 4) for k, v in self.trainer.callback_metrics.items() if k.startswith("test/")}
        rank_zero_info(f"Test results: {metrics} from checkpoint {self.trainer.ckpt_path or '(current weights)'}")

    def after_predict(self) -> None:
        predictions = self.trainer.predict_loop.predictions
        if not predictions or not self.trainer.is_global_zero:
            return
        out = Path(self.trainer.default_root_dir) / "predictions.pt"
        out.parent.mkdir(parents=True, exist_ok=True)
        torch.save(predictions, out)
        ckpt = self.trainer.ckpt_path
        weights = f"checkpoint {ckpt}" if ckpt else "freshly initialised weights (no --ckpt_path given: untrained)"
        datamodule = self.datamodule
        rows = prediction_table.prediction_rows(
            predictions, getattr(datamodule, "class_names", None), getattr(datamodule, "predict_files", ())
        )
        csv_path = prediction_table.write_csv(rows, out.with_suffix(".csv"))
        rank_zero_info(
            f"Predicted {len(rows)} rows with {weights}:\n{prediction_table.format_table(rows)}\n"
            f"Saved to {csv_path} and {out}"
        )


PRESETS_DIR = Path(__file__).resolve().parent / "configs"


def find_presets(args: list[str]) -> list[str]:
    """``--config mnist_cnn`` (a bare name, not a file here) means ``configs/mnist_cnn.yaml`` of this project,
    so the command works from any folder."""
    resolved = list(args)
    for i, arg in enumerate(resolved):
        flag, _, inline = arg.partition("=")
        if flag != "--config" or (not inline and i + 1 == len(resolved)):
            continue
        value = inline or resolved[i + 1]
        if Path(value).exists() or "/" in value or value.endswith((".yaml", ".yml", "}")):
            continue  # a file, a path to one, or inline YAML: jsonargparse's own business
        preset = PRESETS_DIR / f"{value}.yaml"
        if not preset.is_file():
            names = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
            sys.exit(f"error: --config {value}: no such file and no preset of that name (presets: {names})")
        if inline:
            resolved[i] = f"--config={preset}"
        else:
            resolved[i + 1] = str(preset)
    return resolved


def main(args: list[str] | None = None, run: bool = True) -> CLI:
    """Entry point of ``python cli.py`` and of the ``lightning-classics`` command."""
    if args is None:  # from the command line: LightningCLI reads sys.argv itself (and warns when given both)
        sys.argv[1:] = find_presets(sys.argv[1:])
    else:
        args = find_presets(args)
    try:
        return CLI(
            subclass_mode_model=True,
            subclass_mode_data=True,
            seed_everything_default=0,
            auto_configure_optimizers=False,  # each module configures its own optimizer from typed arguments
            trainer_defaults={"accelerator": "auto", "devices": "auto", "max_epochs": 10},
            save_config_kwargs={"overwrite": True},  # re-running a command rewrites its saved config
            parser_kwargs={"description": "Train, validate, test or predict with a model and data from configs/."},
            args=args,
            run=run,
        )
    except (DataNotFoundError, CheckpointNotFoundError, ImageInputError) as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
