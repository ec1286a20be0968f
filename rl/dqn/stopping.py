"""When a DQN run stops, and which of its checkpoints is best: both decided on a sustained evaluation result.

An evaluation is the mean return of ``val_episodes`` greedy episodes (fixed seeds) after every epoch. The
*sustained return* is the lowest of the last ``stop_evaluations`` (K) evaluation means, ``-inf`` until there are K
of them. Training stops once it reaches the target (K evaluations in a row at or above it), and ``best.ckpt`` is
the checkpoint with the highest one (``val/sustained_return``): neither rests on one lucky evaluation, since the
score must hold across K policies (the weights change between evaluations), and ``best.ckpt`` is the last of K
checkpoints that all scored at least its figure, so ``last.ckpt`` of a run that stopped is its best too.

Sizing N = ``val_episodes`` and K (issue 28.1). An evaluation's mean for a policy of true mean ``mu`` and
per-episode standard deviation ``sigma`` is about normal with standard error ``sigma / sqrt(N)``, so it reaches the
target ``t`` with chance ``p = 1 - Phi((t - mu) sqrt(N) / sigma)``; K in a row, were the K errors independent,
``p ** K`` (:func:`chance_to_stop`). They are partly alike (the same seeds every time, policies one epoch apart),
so the truth lies between ``p ** K`` and ``p``: N bounds the luck of the episodes, K the epoch-to-epoch swings of
DQN's policy (BENCHMARKS.md's curves jump by 30-100 between evaluations). Pixel CartPole, ``sigma`` about 30 near
the threshold (the test spread of BENCHMARKS.md's runs): a policy of true mean 191 reaches 195 with ``p = 0.28`` at
N = 20 (the old rule, K = 1, that stopped on 199.9 and tested 191.3); N = 50, K = 3 make it 0.17 and 0.005, while
a policy of true mean 198 (``sigma`` about 12) still stops with 0.89. That preset uses N = 50, K = 3.
"""

from __future__ import annotations

import math
from typing import Any

from lightning.pytorch.utilities import rank_zero_info

NOT_SUSTAINED = float("-inf")  # the sustained return before there are stop_evaluations evaluations


def chance_to_stop(true_mean: float, std: float, target: float, episodes: int, evaluations: int) -> float:
    """Chance that a policy whose episode returns have this mean and standard deviation reaches ``target`` in
    ``evaluations`` independent evaluations in a row of ``episodes`` episodes each (normal approximation)."""
    z = (target - true_mean) * math.sqrt(episodes) / std
    one = 0.5 * math.erfc(z / math.sqrt(2))  # 1 - Phi(z)
    return one**evaluations


class StopRule:
    """Stop: the sustained return (see the module's docstring) reaches ``target``; ``None``: never, the run ends
    at ``max_epochs``. Also records the first evaluation at the environment's ``reward_threshold`` (``solved_at``,
    what the benchmarks time), which alone neither stops nor counts as solved."""

    def __init__(
        self, env_id: str, episodes: int, target: float | None, reward_threshold: float | None, evaluations: int
    ) -> None:
        """
        Args:
            env_id: The environment, named in the messages.
            episodes: Greedy episodes per evaluation, named in the messages.
            target: The sustained return that stops training (``None``: never stop).
            reward_threshold: The environment's registered ``reward_threshold`` (``None``: it has none).
            evaluations: Consecutive evaluations the sustained return spans (K).
        """
        self.env_id = env_id
        self.episodes = episodes
        self.target = target
        self.reward_threshold = reward_threshold
        self.evaluations = evaluations
        self.solved_at: int | None = None  # agent steps at the first evaluation at the reward threshold
        self.recent: list[float] = []  # the last `evaluations` evaluation means, oldest first

    @property
    def sustained_return(self) -> float:
        """The lowest of the last K evaluation means; ``-inf`` while there are fewer than K."""
        return min(self.recent) if len(self.recent) == self.evaluations else NOT_SUSTAINED

    def describe(self) -> str:
        """The rule in one line, printed as training starts."""
        if self.target is None:
            why = (
                "stop_return is null" if self.reward_threshold is not None else f"{self.env_id} has no reward_threshold"
            )
            return f"Stop rule: none ({why}); training runs to max_epochs. Set --model.init_args.stop_return to stop"
        threshold = f" (reward threshold {self.reward_threshold:g})" if self.reward_threshold is not None else ""
        return (
            f"Stop rule: {self.evaluations} evaluation(s) in a row of {self.episodes} greedy episodes, each with a mean "
            f"return >= {self.target:g}{threshold}"
        )

    def update(self, mean_return: float, env_steps: int) -> bool:
        """Takes the mean return of an evaluation after ``env_steps`` agent steps; True: stop training."""
        threshold = self.reward_threshold
        if self.solved_at is None and threshold is not None and mean_return >= threshold:
            self.solved_at = env_steps
            rank_zero_info(
                f"First evaluation at {self.env_id}'s reward threshold after {env_steps} agent steps: mean return "
                f"{mean_return:.1f} >= {threshold:g} over {self.episodes} greedy episodes"
            )
        self.recent = [*self.recent, mean_return][-self.evaluations :]
        if self.target is None or self.sustained_return < self.target:
            return False
        solved = threshold is not None and self.target >= threshold
        rank_zero_info(
            f"{'Solved' if solved else 'Stopping'}: {self.evaluations} evaluation(s) in a row with a mean return >= "
            f"{self.target:g} over {self.episodes} greedy episodes each, after {env_steps} agent steps"
        )
        return True

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to decide as the uninterrupted one: the first solve and the recent means."""
        return {"solved_at": self.solved_at, "recent": list(self.recent)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.solved_at = state["solved_at"]
        # Checkpoints written before the rule kept its recent means hold only a streak count: such a run starts
        # its window afresh, so it may stop up to K - 1 evaluations later than it would have.
        self.recent = [float(mean) for mean in state.get("recent", [])][-self.evaluations :]
