"""Command line for every workload: ``python cli.py fit|validate|test|predict --config configs/<preset>.yaml``.

Models and data are chosen in YAML (or with ``--model CNN --data MNISTDataModule``); see
``python cli.py fit --help`` and ``python cli.py fit --model.help CNN`` for every option.
Each ``fit`` writes one run folder, ``<runs_dir>/<run_name>/version_N/`` (see lightning_classics/runs/folders.py).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from argparse import ArgumentError
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException

# Imported so that LightningCLI knows every model and data module by its short name.
import datamodules  # noqa: F401
import lightning_classics.inference.prediction_table as prediction_table
import lightning_modules
import rl
from lightning_classics.callbacks import (
    BestCheckpoint,
    BestMetricAsHpMetric,
    EnvStepsProgressBar,
    LatestCheckpoint,
    LearningRateCurve,
    NonFiniteStop,
    TestPictures,
)
from lightning_classics.runs.atomic_io import AtomicCheckpointIO, atomic_torch_save, remove_stale_temp_files
from lightning_classics.runs.checkpoint_loader import model_classes, read_checkpoint
from lightning_classics.runs.checkpoint_match import check_checkpoint_matches
from lightning_classics.runs.command_line import run_command
from lightning_classics.runs.errors import UserError
from lightning_classics.runs.folders import (
    NAMED_CHECKPOINTS,
    RunFolder,
    check_run_name,
    existing_run,
    new_run,
    run_of_checkpoint,
)
from lightning_classics.runs.interrupts import MidEpochCheckpoint, TrainingInterrupted
from lightning_classics.runs.lean_loop import NoOpProfiler
from lightning_classics.runs.lightning_internals import CachedCudaCheck, LightningCLIWithoutCheckpointHparams
from lightning_classics.runs.parse_errors import known_options, one_line_parse_error
from lightning_classics.runs.presets import find_presets
from lightning_classics.runs.resume import ResumeState
from lightning_classics.runs.run_config import no_model_hint, with_run_config
from lightning_classics.runs.run_lock import lock_run

# lightning 2.6's own CLI code calls jsonargparse APIs deprecated in jsonargparse 4.49; the
# warnings are about Lightning's code, not the user's, so they only add noise.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
# Likewise lightning 2.6 calls a torch pytree API that torch 2.14 deprecates, once per run.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
# Lightning cannot see that lightning_classics.runs.resume.ResumeState restores the loader's position mid-epoch.
warnings.filterwarnings("ignore", message=r"You're resuming from a checkpoint that ended before the epoch ended")
# The DQN's ExperienceStream has a length so that ResumeState can position it (rl/dqn/stream.py); it is read with
# num_workers=0, where the length is exact.
warnings.filterwarnings("ignore", message=r"Your `IterableDataset` has `__len__` defined")
# A preset's EMAWeightAveraging (lunarlander_dqn.yaml) averages during fit; its checkpoints hold the average as the
# model's weights, which test and play read, so its note that outside fit it cannot restore itself is noise.
warnings.filterwarnings(
    "ignore", message=r"You're using the WeightAveraging callback, but loading a checkpoint outside"
)
# Tabular Q-learning updates its table by hand: having no optimizer is its design, not a mistake.
warnings.filterwarnings("ignore", message=r"`LightningModule.configure_optimizers` returned `None`")


class _DropLightningNoise(logging.Filter):
    """Lightning's start-up lines that say nothing about this run: no GPU/TPU here, ads for its cloud, internals."""

    NOISE = ("💡 Tip:", "GPU available: False", "TPU available: False", "Loading `train_dataloader` to estimate")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropLightningNoise())


# Where a command runs: the CLI's Trainer defaults, and what an evaluation of a run sets over the run's saved
# config (lightning_classics/runs/run_config.py): a run trained with DDP on 2 GPUs is evaluated where it is evaluated.
WHERE_IT_RUNS = {"accelerator": "auto", "devices": "auto", "strategy": "auto", "num_nodes": 1}
PROGRESS_BAR_REFRESH_RATE = 20  # batches between redraws; each redraw formats the metrics (docs/results.md)


def checkpoint_dir(runs_dir: str, run_name: str) -> str:
    """Placeholder until the run's version is known (``before_instantiate_classes`` sets the real folder)."""
    return str(Path(runs_dir) / run_name / "checkpoints")


def run_dir(runs_dir: str, run_name: str) -> str:
    return str(Path(runs_dir) / run_name)


def outside_runs(ckpt_path: str | None) -> str:
    """The folder (beside the run's ``version_N`` folders) of an evaluation that belongs to no run: untrained
    weights, or a checkpoint file from elsewhere. Its outputs (``predictions-<time>.csv/.pt``) go there, not between runs."""
    return "untrained" if ckpt_path is None else "other_checkpoints"


@rank_zero_only
def show_result(text: str) -> None:
    """A command's results go to stdout, and progress bars, warnings and logs to stderr (lightning_classics/callbacks/progress_bar.py),
    so that ``cli.py test ... > results.txt`` keeps the results and the terminal still shows the progress."""
    print(text, flush=True)


class FitConfigSaver(SaveConfigCallback):
    """Saves the config of the command that trained the run; evaluation commands leave the run's config alone."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            super().setup(trainer, pl_module, stage)


class CLI(LightningCLIWithoutCheckpointHparams):
    """LightningCLI with one folder per run, checked checkpoints, exact resume and readable summaries.

    Its base does not parse ``--ckpt_path``'s hyper-parameters (lightning_classics/runs/lightning_internals.py): the
    checkpoint is checked against the configuration after the model is built (``after_instantiate_classes``)."""

    run: RunFolder | None = None  # the run folder of the command (None: an evaluation outside any run)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--run_name", default="default", help="Name of the run: outputs go to <runs_dir>/<run_name>/version_N/."
        )
        parser.add_argument("--runs_dir", default="runs", help="Folder that holds one sub-folder per run name.")
        parser.add_argument(
            "--version",
            type=int | None,
            default=None,
            help="Which version_N of the run --ckpt_path best|last uses (default: the latest).",
        )
        parser.add_argument(
            "--checkpoint_every_n_steps",
            type=int,
            default=0,
            help="Also write last.ckpt every this many training steps inside an epoch (0: off).",
        )
        parser.add_argument(
            "--checkpoint_every_n_minutes",
            type=float,
            default=10.0,
            help="Also write last.ckpt when this many minutes passed since the last write (0: off).",
        )
        parser.add_argument(
            "--progress_bar_refresh_rate",
            type=int,
            default=PROGRESS_BAR_REFRESH_RATE,
            help="Redraw the progress bar every N batches (Lightning's default of 1 costs small models ~5%% of their speed).",
        )
        parser.add_lightning_class_args(BestCheckpoint, "checkpoint")
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
        # Linked so that they cannot be set by hand; the run's version folder replaces them before instantiation.
        for group in ("checkpoint", "last_checkpoint"):
            parser.link_arguments(("runs_dir", "run_name"), f"{group}.dirpath", compute_fn=checkpoint_dir)
        parser.link_arguments(("runs_dir", "run_name"), "trainer.default_root_dir", compute_fn=run_dir)
        # Data facts flow into the model; a link is skipped when the model has no such argument (e.g. RL agents).
        for fact in ("num_classes", "image_shape", "num_features", "batch_size", "pixel_mean", "pixel_std"):
            parser.link_arguments(f"data.{fact}", f"model.init_args.{fact}", apply_on="instantiate")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with a progress bar that redraws every ``--progress_bar_refresh_rate`` batches (no ``v_num``)
        and counts environment steps for agents, and with cheaper per-batch bookkeeping (lightning_classics/runs/lean_loop.py,
        ``CachedCudaCheck`` in lightning_classics/runs/lightning_internals.py)."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer_config = config["trainer"]
        callbacks = trainer_config.get("callbacks") or []
        has_bar = any(isinstance(c, ProgressBar) for c in callbacks)
        if trainer_config.get("enable_progress_bar") is not False and not has_bar and "callbacks" not in kwargs:
            kwargs["callbacks"] = [*callbacks, EnvStepsProgressBar(refresh_rate=config["progress_bar_refresh_rate"])]
        if trainer_config.get("profiler") is None:  # no profiler asked for: one whose no-op costs nothing either
            kwargs.setdefault("profiler", NoOpProfiler())
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks.append(CachedCudaCheck())  # type: ignore[attr-defined]  # Trainer sets it at run time
        return trainer

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        # Errors are raised (and made one line by lightning_classics.runs.command_line) instead of printing the usage.
        # No abbreviations: argparse would take a misspelt `--trainer.max_epoch` as `--trainer.max_epochs`.
        return super().init_parser(**{**kwargs, "exit_on_error": False, "allow_abbrev": False})

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        try:
            super().parse_arguments(parser, args)
        except ArgumentError as err:
            raise UserError(one_line_parse_error(str(err), known_options(parser)) + no_model_hint(str(err))) from err

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
        check_run_name(config.run_name)
        if config.checkpoint_every_n_steps < 0 or config.checkpoint_every_n_minutes < 0:
            raise UserError("--checkpoint_every_n_steps and --checkpoint_every_n_minutes must be >= 0 (0: off)")
        self._checkpoint: dict[str, Any] | None = None
        if self.subcommand is None:
            return
        runs_dir = Path(config.runs_dir)
        self.run, config.ckpt_path = self._choose_run(runs_dir, config.run_name, config.version, config.ckpt_path)
        if self.subcommand == "fit" and self.run is not None and self.run.path.is_dir():
            # one training process per run folder (a torchrun rank 0 starting a new run creates it later, unlocked)
            lock_run(self.run.path)
        if config.ckpt_path is not None:
            self._checkpoint = read_checkpoint(config.ckpt_path)
        root = self.run.path if self.run is not None else runs_dir / config.run_name / outside_runs(config.ckpt_path)
        config.trainer.default_root_dir = str(root)
        for group in (config.checkpoint, config.last_checkpoint):
            group.dirpath = str(self.run.checkpoints if self.run is not None else root / "checkpoints")

    def _choose_run(
        self, runs_dir: Path, run_name: str, version: int | None, ckpt_path: str | None
    ) -> tuple[RunFolder | None, str | None]:
        """The run folder this command works in, and the checkpoint file it reads (if any)."""
        fit = self.subcommand == "fit"
        if ckpt_path in NAMED_CHECKPOINTS:
            run = existing_run(runs_dir, run_name, version, "resume" if fit else "evaluate")
            path = run.checkpoint(ckpt_path)
            if not path.is_file():
                # a write killed before the first checkpoint leaves only its temporary file: clear it away
                removed = remove_stale_temp_files(run.checkpoints)
                cleared = f"; removed {len(removed)} partial file(s) of an interrupted write" if removed else ""
                raise UserError(
                    f"no '{ckpt_path}' checkpoint in {run.path} (the run stopped before writing one{cleared}): "
                    f"start a new run without --ckpt_path, or pass --ckpt_path PATH"
                )
            return run, str(path)
        if version is not None:
            raise UserError("--version picks the run of --ckpt_path best|last; pass one of those with it")
        if ckpt_path is not None:
            # A checkpoint inside a run folder continues (or is evaluated in) that run.
            owner = run_of_checkpoint(Path(ckpt_path)) if Path(ckpt_path).is_file() else None
            if owner is not None or not fit:
                return owner, ckpt_path
        return (new_run(runs_dir, run_name) if fit else None), ckpt_path

    def after_instantiate_classes(self) -> None:
        super().after_instantiate_classes()
        if self.subcommand is None:
            return
        config = self.config[self.subcommand]
        self.trainer.strategy.checkpoint_io = AtomicCheckpointIO()
        changes = None
        if self._checkpoint is not None:
            classes = model_classes(lightning_modules, rl)
            changes = check_checkpoint_matches(self._checkpoint, self.model, config.ckpt_path, classes)
            self._checkpoint = None  # release the memory; Lightning reads the file again when it restores
        self._set_logger(config)
        resume_state = ResumeState(lr_change=changes.lr_change() if changes else None)
        self.trainer.callbacks.append(resume_state)  # type: ignore[attr-defined]  # every command: checkpoints hold its state
        if self.subcommand == "fit":
            assert self.run is not None
            if os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("RANK", "0") == "0":
                remove_stale_temp_files(self.run.checkpoints)  # left by a killed write
            # first: its checks must come before the checkpoint callbacks' saves at the same hook
            self.trainer.callbacks.insert(0, NonFiniteStop())  # type: ignore[attr-defined]
            last = self.run.checkpoint("last")
            self.trainer.callbacks.append(  # type: ignore[attr-defined]
                MidEpochCheckpoint(last, config.checkpoint_every_n_steps, config.checkpoint_every_n_minutes)
            )

    def _set_logger(self, config) -> None:
        """TensorBoard events go to the run folder itself, so a resumed run continues the same curve."""
        if config.trainer.logger not in (None, True):
            return  # the user configured a logger (or turned it off)
        if self.run is None:
            self.trainer.loggers = []  # an evaluation outside any run folder adds no log folder
            return
        self.trainer.loggers = [
            TensorBoardLogger(
                save_dir=self.run.path.parent, name="", version=self.run.path.name, default_hp_metric=False
            )
        ]

    def fit(self, **kwargs: Any) -> None:
        """``trainer.fit``. SIGTERM during validation or an epoch's end makes Lightning stop by itself there, where
        MidEpochCheckpoint cannot write (no consistent point); the run's latest ``last.ckpt`` is then the place to
        resume from."""
        try:
            self.trainer.fit(**kwargs)
        except SIGTERMException:
            assert self.run is not None
            last = self.run.checkpoint("last")
            if not last.is_file():
                raise
            raise TrainingInterrupted("SIGTERM", last) from None

    def after_fit(self) -> None:
        callbacks = [c for c in self.trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
        last = next(c for c in callbacks if isinstance(c, LatestCheckpoint))
        best = next(c for c in callbacks if not isinstance(c, LatestCheckpoint))
        score = best.best_model_score
        show_result(
            f"Run folder: {self.trainer.default_root_dir}"
            + f"\nBest checkpoint: {best.best_model_path or '(none)'}"
            + (f" ({best.monitor} = {score.item():.4f})" if score is not None else "")
            + f"\nLast checkpoint: {last.best_model_path or '(none)'}"
            + f"\nLogs: {self.trainer.log_dir}  (tensorboard --logdir {Path(self.trainer.default_root_dir).parent})"
        )

    def after_test(self) -> None:
        metrics = {k: round(v.item(), 4) for k, v in self.trainer.callback_metrics.items() if k.startswith("test/")}
        show_result(
            f"Test results: {metrics} from checkpoint {self.trainer.ckpt_path or '(current weights)'}"
            + (f" (run folder {self.run.path})" if self.run is not None else "")
        )

    def after_predict(self) -> None:
        predictions = self.trainer.predict_loop.predictions
        if not predictions or not self.trainer.is_global_zero:
            return
        ckpt = self.trainer.ckpt_path
        weights = f"checkpoint {ckpt}" if ckpt else "freshly initialised weights (no --ckpt_path given: untrained)"
        datamodule = self.datamodule
        rows = prediction_table.prediction_rows(
            predictions, getattr(datamodule, "class_names", None), getattr(datamodule, "predict_files", ())
        )
        # each predict its own pair of files, named by the CSV (which takes the first free name)
        csv_path = prediction_table.write_csv(rows, Path(self.trainer.default_root_dir))
        tensors = csv_path.with_suffix(".pt")
        atomic_torch_save(predictions, tensors)
        show_result(
            f"Predicted {len(rows)} rows with {weights}:\n{prediction_table.format_table(rows)}\n"
            f"Saved to {csv_path} and {tensors}"
        )


def main(args: list[str] | None = None, run: bool = True, callbacks: list[Callback] | None = None) -> CLI:
    """Entry point of ``python cli.py``: returns the CLI object (tests read its trainer and model).

    ``callbacks``: more Trainer callbacks, for callers in Python (benchmarks time the shipped ``fit`` this way).
    """
    if args is None:  # from the command line: LightningCLI reads sys.argv itself (and warns when given both)
        sys.argv[1:] = find_presets(sys.argv[1:])
    else:
        args = find_presets(args)
    return run_command(
        lambda argv: CLI(
            subclass_mode_model=True,
            subclass_mode_data=True,
            seed_everything_default=0,
            auto_configure_optimizers=False,  # each module configures its own optimizer from typed arguments
            # LightningCLI adds trainer_defaults' callbacks to the configured ones.
            trainer_defaults={**WHERE_IT_RUNS, "max_epochs": 10, "callbacks": callbacks or []},
            save_config_callback=FitConfigSaver,
            save_config_kwargs={"overwrite": True},  # a resumed run rewrites its config with the resuming command's
            parser_kwargs={"description": "Train, validate, test or predict with a model and data from configs/."},
            args=evaluation_starts_from_the_run(argv),
            run=run,
        ),
        args,
    )


def evaluation_starts_from_the_run(args: list[str] | None) -> list[str] | None:
    """``validate``/``test``/``predict`` of a run's checkpoint read the run's saved config first
    (lightning_classics/runs/run_config.py); ``None``: the command line, which LightningCLI reads from ``sys.argv``."""
    completed, config = with_run_config(sys.argv[1:] if args is None else args, WHERE_IT_RUNS)
    if config is not None:
        print(
            f"Configuration: the run's own {config} (not where it ran: accelerator, devices and strategy are auto), "
            "with the command line's options over it",
            file=sys.stderr,
        )
    if args is None:
        sys.argv[1:] = completed  # the DDP launcher re-runs sys.argv: its processes read the same configuration
        return None
    return completed


def console_main() -> None:
    """The ``lightning-classics`` command: like ``python cli.py``, exit status 0 on success."""
    main()


if __name__ == "__main__":
    main()
