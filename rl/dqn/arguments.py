"""The DQN's argument checks, so a bad value stops the command at once with the option's name and the range."""

from __future__ import annotations

from rl.arguments import at_least, in_range, positive


def check_arguments(
    lr: float,
    gamma: float,
    tau: float,
    batch_size: int,
    buffer_size: int,
    replay: bool,
    **counts: int,
) -> None:
    """``counts``: the integer arguments by name; ``learning_starts`` and ``epsilon_decay_steps`` may be 0, every
    other one must be at least 1."""
    positive(lr=lr)
    in_range("gamma", gamma, 0.0, 1.0)
    in_range("tau", tau, 0.0, 1.0, low_open=True)
    at_least(1, batch_size=batch_size, buffer_size=buffer_size)
    may_be_zero = ("learning_starts", "epsilon_decay_steps")
    at_least(1, **{name: value for name, value in counts.items() if name not in may_be_zero})
    at_least(0, **{name: value for name, value in counts.items() if name in may_be_zero})
    if replay and buffer_size < batch_size:
        raise ValueError(
            f"--model.init_args.buffer_size ({buffer_size}) is smaller than batch_size ({batch_size}): a batch "
            "is drawn from the buffer, so make the buffer at least as large"
        )
