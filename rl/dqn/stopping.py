"""When a DQN run counts as solved, and when it stops: decided after each evaluation from its mean return."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.utilities import rank_zero_info


class StopRule:
    """Solved: the first evaluation whose mean return reaches the environment's ``reward_threshold`` (recorded,
    training goes on). Stop: ``stop_evaluations`` evaluations in a row with a mean return of at least
    ``stop_return`` (``None``: never; the run ends at ``max_epochs``)."""

    def __init__(
        self,
        env_id: str,
        episodes: int,
        solve_threshold: float | None,
        stop_return: float | None,
        stop_evaluations: int,
    ) -> None:
        self.env_id = env_id  # env_id and episodes (per evaluation) only go into the messages
        self.episodes = episodes
        self.solve_threshold = solve_threshold
        self.stop_return = stop_return
        self.stop_evaluations = stop_evaluations
        self.solved_at: int | None = None  # environment steps at the first evaluation that solved the task
        self.streak = 0  # consecutive evaluations at or above stop_return

    def update(self, mean_return: float, env_steps: int) -> bool:
        """Takes the mean return of an evaluation after ``env_steps`` environment steps; True: stop training."""
        if self.solved_at is None and self.solve_threshold is not None and mean_return >= self.solve_threshold:
            self.solved_at = env_steps
            rank_zero_info(
                f"Solved {self.env_id} after {env_steps} environment steps: mean return {mean_return:.1f} >= "
                f"{self.solve_threshold} over {self.episodes} greedy episodes"
            )
        if self.stop_return is None:
            return False
        self.streak = self.streak + 1 if mean_return >= self.stop_return else 0
        if self.streak < self.stop_evaluations:
            return False
        rank_zero_info(f"Stopping: {self.streak} evaluation(s) in a row with a mean return >= {self.stop_return}")
        return True

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to decide as the uninterrupted one: the solve step and the running streak."""
        return {"solved_at": self.solved_at, "streak": self.streak}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.solved_at, self.streak = state["solved_at"], state["streak"]
