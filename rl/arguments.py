"""Checks of agent arguments, so that a bad value stops the command at once with the option's name and the
accepted range (``train_freq 0``, for one, would otherwise never step the environment again)."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym


def at_least(minimum: int, **values: int) -> None:
    for name, value in values.items():
        if value < minimum:
            raise ValueError(f"--model.init_args.{name} must be at least {minimum}, got {value}")


def in_range(name: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    if not (low < value if low_open else low <= value) or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"--model.init_args.{name} must be in {bracket}{low}, {high}], got {value}")


def positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"--model.init_args.{name} must be positive, got {value}")


OUT_OF_DATE_CARTPOLE = r".*The environment CartPole-v0 is out of date"  # gymnasium colours it: .* skips the codes


def make_env(env_id: str, option: str = "--model.init_args.env_id", **kwargs: Any) -> gym.Env:
    """``gym.make`` with a one-line error, naming ``option``, for an id that gymnasium does not know."""
    try:
        with warnings.catch_warnings():
            # CartPole-v0 (200-step episodes) is the task this project is about, on purpose (README); gymnasium
            # calls it out of date at every make, in every command and every agent loaded from Python.
            warnings.filterwarnings("ignore", message=OUT_OF_DATE_CARTPOLE, category=DeprecationWarning)
            return gym.make(env_id, **kwargs)
    except gym.error.Error as err:  # NameNotFound, VersionNotFound, DeprecatedEnv, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{option} {env_id!r} cannot be made: {reason} (ids look like CartPole-v1 or Taxi-v4)"
        ) from err
