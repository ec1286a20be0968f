"""The returns an environment's episodes can have, where its rules make them known: what a stop target is checked
against (rl/dqn/arguments.py), so that a target no episode can reach is refused instead of training forever.

Only environments whose every frame pays a reward within fixed bounds are listed; for the rest (LunarLander, Atari,
an environment of your own) nothing is known and nothing is refused.
"""

from __future__ import annotations

from gymnasium.envs.registration import EnvSpec

# Reward of one frame (one env.step of the environment itself), (lowest, highest), from gymnasium's rules.
REWARD_PER_FRAME = {
    "CartPole": (1.0, 1.0),  # +1 for every frame, the one that ends the episode included
    "Acrobot": (-1.0, 0.0),  # -1 per frame, 0 on the frame that reaches the goal
    "MountainCar": (-1.0, -1.0),  # -1 per frame, the last one included
}


def return_range(spec: EnvSpec | None) -> tuple[float, float] | None:
    """(lowest, highest) return of one episode, which lasts between 1 and ``max_episode_steps`` frames at the
    rewards of :data:`REWARD_PER_FRAME`; ``None`` where unknown. Frame skipping sums the same rewards."""
    if spec is None or spec.name not in REWARD_PER_FRAME or spec.max_episode_steps is None:
        return None
    low, high = REWARD_PER_FRAME[spec.name]
    frames = spec.max_episode_steps
    return min(low, low * frames), max(high, high * frames)


def full_score(spec: EnvSpec | None) -> float | None:
    """The highest return where an episode reaches it by lasting to the time limit: every frame pays the same
    positive reward (CartPole: 200 on v0, 500 on v1). ``None`` where there is no such score."""
    if spec is None or spec.name not in REWARD_PER_FRAME:
        return None
    low, high = REWARD_PER_FRAME[spec.name]
    bounds = return_range(spec)
    return bounds[1] if bounds is not None and low == high > 0 else None
