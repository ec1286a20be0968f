"""Check that a checkpoint (read by lightning_classics/runs/checkpoint_loader.py) belongs to the configured model before anything uses it.

LightningCLI's own ``--ckpt_path`` handling imports the class named in the checkpoint and parses the
checkpoint's hyper-parameters over the configuration, so the configured model, environment and command-line
options could be swapped silently. Here the configuration stays the truth: a checkpoint of another model class
or environment is refused, and options that differ from the checkpoint's either apply (``CHANGEABLE``) or are
refused with a one-line error. No class named in a checkpoint is ever imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L

from lightning_classics.runs.checkpoint_loader import ModelClasses, check_state_dict, hyper_parameters, model_class
from lightning_classics.runs.errors import UserError
from lightning_classics.runs.run_config import saved_config_of_checkpoint

# Hyper-parameters that steer how a model is trained or evaluated, not what its weights mean: a resumed or
# evaluated checkpoint may take new values for these. ``lr`` is applied to the restored optimizer.
# ``batch_size`` (linked from the data module for the classifiers' LR scaling) sets how many examples a step
# sees, not what the weights mean: evaluating or resuming with another batch size is allowed.
CHANGEABLE = frozenset(
    {"lr", "batch_size", "test_episodes", "val_episodes", "num_threads", "stop_return", "stop_evaluations"}
)
# Hyper-parameters that name the task: a mismatch is reported as "another environment".
TASK_KEYS = ("env_id",)


def _plain(value: Any) -> Any:
    """Compare tuples and lists alike (YAML gives lists, Python defaults tuples)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Changes:
    """Hyper-parameters the configuration changes relative to the checkpoint: name -> (checkpoint's, configured)."""

    values: dict[str, tuple[Any, Any]]

    def lr_change(self) -> tuple[float, float] | None:
        return self.values.get("lr")


def run_config_hint(path: str | Path) -> str:
    """Where the configuration of the checkpoint's run is, for the end of a mismatch error (none outside a run)."""
    config = saved_config_of_checkpoint(path)
    if config is None:
        return ""
    return (
        f"; the run's configuration is {config}: validate/test/predict start from it, so leave out the options "
        f"that change it (to resume, fit with --config {config})"
    )


def check_checkpoint_matches(
    checkpoint: dict[str, Any], model: L.LightningModule, path: str | Path, classes: ModelClasses
) -> Changes:
    """Refuse a checkpoint of another model class or task (its class is looked up in ``classes``, the project's
    models); return the allowed hyper-parameter changes."""
    saved = hyper_parameters(checkpoint, path)
    configured = type(model)
    class_path = saved.pop("_class_path", None)
    saved.pop("_instantiator", None)
    if class_path is not None:
        saved_class = model_class(class_path, f"checkpoint {path}", classes)
        if saved_class is not configured:
            raise UserError(
                f"checkpoint {path} holds a {saved_class.__name__} model but the configuration builds a "
                f"{configured.__name__}: pass the config it was trained with, or a {configured.__name__} checkpoint"
                + run_config_hint(path)
            )
    current = dict(model.hparams)
    for key in TASK_KEYS:
        if key in saved and key in current and saved[key] != current[key]:
            raise UserError(
                f"checkpoint {path} was trained on {key}={saved[key]!r} but the configuration says {current[key]!r}: "
                f"pass the config it was trained with, or --model.init_args.{key} {saved[key]}" + run_config_hint(path)
            )
    changes, refused = {}, []
    for key, value in current.items():
        if key not in saved or _plain(saved[key]) == _plain(value):
            continue
        if key in CHANGEABLE:
            changes[key] = (saved[key], value)
        else:
            refused.append(f"{key}={value!r} (checkpoint: {saved[key]!r})")
    if refused:
        raise UserError(
            f"the configuration differs from checkpoint {path} in what a trained model cannot change: "
            f"{', '.join(refused)}; pass the checkpoint's values or start a new run without --ckpt_path "
            f"(changeable: {', '.join(sorted(CHANGEABLE))})" + run_config_hint(path)
        )
    check_state_dict(checkpoint, model, path)
    return Changes(changes)
