"""The DQN's argument checks, so a bad value stops the command at once with the option's name and the range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from lightning_classics.runs.errors import UserError
from rl.arguments import at_least, in_range, positive
from rl.return_bounds import full_score, return_range

# What ``stop_return`` may say besides a number: the environment's own target, or its full score.
StopReturn = float | Literal["reward_threshold", "full_score"] | None


def check_arguments(
    lr: float,
    gamma: float,
    tau: float,
    batch_size: int,
    buffer_size: int,
    replay: bool,
    *,
    lr_end: float | None = None,
    hidden_sizes: Sequence[int] = (),
    max_grad_norm: float | None = None,
    epsilon_start: float = 1.0,
    epsilon_end: float = 0.0,
    **counts: int,
) -> None:
    """``counts``: the integer arguments by name; ``learning_starts`` and ``epsilon_decay_steps`` may be 0, every
    other one must be at least 1."""
    positive(lr=lr)
    if lr_end is not None and not 0 <= lr_end <= lr:
        raise ValueError(
            f"--model.init_args.lr_end ({lr_end}) must be between 0 and lr ({lr}): the learning rate decays from lr "
            "to lr_end; pass null to keep lr throughout"
        )
    in_range("gamma", gamma, 0.0, 1.0)
    in_range("tau", tau, 0.0, 1.0, low_open=True)
    at_least(1, batch_size=batch_size, buffer_size=buffer_size)
    may_be_zero = ("learning_starts", "epsilon_decay_steps")
    at_least(1, **{name: value for name, value in counts.items() if name not in may_be_zero})
    at_least(0, **{name: value for name, value in counts.items() if name in may_be_zero})
    at_least(1, **{f"hidden_sizes[{i}]": size for i, size in enumerate(hidden_sizes)})  # a 0-wide layer: Q = bias
    if max_grad_norm is not None:
        # clip_grad_norm_ scales the gradient by max_norm / norm: a negative one flips its sign, 0 erases it
        positive(max_grad_norm=max_grad_norm)
    in_range("epsilon_start", epsilon_start, 0.0, 1.0)  # chances of a random action
    in_range("epsilon_end", epsilon_end, 0.0, 1.0)
    if epsilon_end > epsilon_start:
        raise ValueError(
            f"--model.init_args.epsilon_end ({epsilon_end}) is above epsilon_start ({epsilon_start}): exploration "
            "decays from start to end, so make epsilon_end at most epsilon_start"
        )
    if replay and buffer_size < batch_size:
        raise ValueError(
            f"--model.init_args.buffer_size ({buffer_size}) is smaller than batch_size ({batch_size}): a batch "
            "is drawn from the buffer, so make the buffer at least as large"
        )


def check_observations(env_id: str, space: gym.Space, one_hot_observations: bool) -> None:
    """Observations that are integer labels (``Taxi-v4``'s state number) are not quantities a network can read as
    one input: such environments need ``one_hot_observations``, which is only for them."""
    labels = isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete)
    if labels and not one_hot_observations:
        raise ValueError(
            f"--model.init_args.env_id {env_id} observes integer labels ({space}), which the Q-network cannot read as "
            "numbers: pass --model.init_args.one_hot_observations true to feed them one-hot encoded, or use "
            "TabularQLearning"
        )
    if one_hot_observations and not labels:
        raise ValueError(
            f"--model.init_args.one_hot_observations is for environments that observe integer labels; {env_id} "
            f"observes a {type(space).__name__} of shape {space.shape}: leave it false"
        )


def stop_target(env_id: str, spec: EnvSpec | None, stop_return: StopReturn) -> float | None:
    """The mean return that ``stop_return`` asks training to sustain (``None``: never stop), refused in one line if
    no episode of the environment can reach it (where rl/return_bounds.py knows its returns)."""
    option = "--model.init_args.stop_return"
    threshold = spec.reward_threshold if spec is not None else None
    own = f"reward_threshold ({threshold:g})" if threshold is not None else "null (no stop)"
    if stop_return == "reward_threshold":
        return None if threshold is None else float(threshold)
    if stop_return == "full_score":
        score = full_score(spec)
        if score is None:
            raise UserError(
                f"{option} full_score: {env_id} has no full score known here (an episode lasting to its time limit "
                f"scores it on CartPole); pass {own} or a number"
            )
        return score
    if stop_return is None:
        return None
    if isinstance(stop_return, str):  # from Python: the command line accepts only the words above
        raise UserError(f"{option} {stop_return!r}: pass a number, reward_threshold, full_score or null (never stop)")
    bounds = return_range(spec)
    if bounds is not None and stop_return > bounds[1]:
        low, high = bounds
        raise UserError(
            f"{option} {stop_return:g} cannot be reached: {env_id}'s episodes return between {low:g} and {high:g}; "
            f"pass a number in that range or {own}"
        )
    return float(stop_return)
