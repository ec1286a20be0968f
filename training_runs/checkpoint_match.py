"""Read a checkpoint safely and check that it belongs to the configured model before anything uses it.

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
import torch

from training_runs.errors import UserError

# Hyper-parameters that steer how a model is trained or evaluated, not what its weights mean: a resumed or
# evaluated checkpoint may take new values for these. ``lr`` is applied to the restored optimizer.
# ``batch_size`` (linked from the data module for the classifiers' LR scaling) sets how many examples a step
# sees, not what the weights mean: evaluating or resuming with another batch size is allowed.
CHANGEABLE = frozenset(
    {"lr", "batch_size", "test_episodes", "val_episodes", "num_threads", "stop_return", "stop_evaluations"}
)
# Hyper-parameters that name the task: a mismatch is reported as "another environment".
TASK_KEYS = ("env_id",)


def project_model_classes() -> dict[str, type[L.LightningModule]]:
    """This project's models by every name a checkpoint may give them (short, package and module path)."""
    import lightning_modules
    import rl

    classes: dict[str, type[L.LightningModule]] = {}
    for package in (lightning_modules, rl):
        for name in package.__all__:
            cls = getattr(package, name)
            if isinstance(cls, type) and issubclass(cls, L.LightningModule):
                for key in (name, f"{package.__name__}.{name}", f"{cls.__module__}.{cls.__qualname__}"):
                    classes[key] = cls
    return classes


def project_model_class(class_path: str, source: str) -> type[L.LightningModule]:
    """The project model ``class_path`` names; anything else is refused without importing it."""
    classes = project_model_classes()
    if class_path not in classes:
        known = sorted({cls.__name__ for cls in classes.values()})
        raise UserError(
            f"{source} names the class {class_path!r}, which is not one of this project's models ({', '.join(known)}); "
            "it is not imported"
        )
    return classes[class_path]


def read_checkpoint(path: str | Path, option: str = "--ckpt_path") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; one-line errors for a missing, foreign or damaged file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{option} {path} does not exist: pass a .ckpt file, or best/last for this run's checkpoints")
    if not path.is_file():
        raise UserError(f"{option} {path} is a folder, not a checkpoint file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError, ... depending on the damage
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        if "Weights only load failed" in str(err) and "global" in str(err).lower():  # names a function or class
            reason = "it holds objects other than tensors and plain values, which are never unpickled here"
        else:
            reason = f"not a readable PyTorch checkpoint (truncated or another kind of file: {first_line})"
        raise UserError(f"{option} {path}: {reason}") from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise UserError(f"{option} {path} is a PyTorch file but not a Lightning checkpoint (no state_dict)")
    return checkpoint


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


def check_checkpoint_matches(checkpoint: dict[str, Any], model: L.LightningModule, path: str | Path) -> Changes:
    """Refuse a checkpoint of another model class or task; return the allowed hyper-parameter changes."""
    saved = dict(checkpoint.get("hyper_parameters", {}))
    configured = type(model)
    class_path = saved.pop("_class_path", None)
    saved.pop("_instantiator", None)
    if class_path is not None:
        saved_class = project_model_class(class_path, f"checkpoint {path}")
        if saved_class is not configured:
            raise UserError(
                f"checkpoint {path} holds a {saved_class.__name__} model but the configuration builds a "
                f"{configured.__name__}: pass the config it was trained with, or a {configured.__name__} checkpoint"
            )
    current = dict(model.hparams)
    for key in TASK_KEYS:
        if key in saved and key in current and saved[key] != current[key]:
            raise UserError(
                f"checkpoint {path} was trained on {key}={saved[key]!r} but the configuration says {current[key]!r}: "
                f"pass the config it was trained with, or --model.init_args.{key} {saved[key]}"
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
            f"(changeable: {', '.join(sorted(CHANGEABLE))})"
        )
    return Changes(changes)
