"""What DQN logs while it trains, on an x-axis of agent steps (rl/steps.py), at a cost a tiny network's update can bear.

It logs through the LightningModule it is given and is told the agent's counters: it imports nothing of the agent.
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import torch

from rl.distributed import rank_and_world
from rl.dqn.env_loop import Episode
from rl.evaluation import log_env_steps


def log_episodes(module: L.LightningModule, episodes: list[Episode]) -> None:
    """One point per finished episode (``train/episode_return``, ``train/episode_length``) at the environment
    step it ended, written to the loggers directly: a value passed to ``self.log`` on one step is written again
    at every later log step of the epoch, so one long episode (a Pong game) would look like many."""
    world = rank_and_world()[1]  # the x-axis counts the steps of all processes, as log_env_steps does
    for logger in module.loggers:
        for episode in episodes:
            metrics = {"train/episode_return": episode.ret, "train/episode_length": float(episode.length)}
            logger.log_metrics(metrics, step=episode.end_step * world)


class TrainingCurves:
    """The training curves: loss and ``max_q`` every ``trainer.log_every_n_steps`` updates, with one point per
    episode finished since then; counters, epsilon and throughput once per epoch.

    Its state (:meth:`state_dict`) is the loss summed since the last log: a run resumed between two logs
    logs the same mean as the uninterrupted one.
    """

    def __init__(self, batch_size: int) -> None:
        """
        Args:
            batch_size: Transitions per update, what Lightning weighs the logged means with.
        """
        self.batch_size = batch_size
        self.loss_sum: torch.Tensor | None = None  # losses since the last log, on the device
        self.loss_count = 0
        self.epoch_clock = (0.0, 0)  # (time, agent steps) when the epoch's training started

    def after_update(
        self, module: L.LightningModule, loss: torch.Tensor, q_values: torch.Tensor, finished: list[Episode]
    ) -> None:
        """Logs only on the steps where the logger writes: one ``log`` call costs far more than a tiny
        network's update. The loss is averaged over those steps on the device, with no per-step host sync.
        ``finished``: the episodes ended since the last log, logged and then cleared."""
        self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss
        self.loss_count += 1
        every = module.trainer.log_every_n_steps  # type: ignore[attr-defined]  # set by Lightning at run time
        if not every or (module.global_step + 1) % every:  # global_step counts the updates before this one
            return
        batch_size = self.batch_size
        module.log("train/loss", self.loss_sum / self.loss_count, prog_bar=True, batch_size=batch_size)
        self.loss_sum, self.loss_count = None, 0
        # The DQN paper's health check: the mean of max_a Q(s, a) should level off near the true values
        # (about 1 / (1 - gamma) for CartPole's +1 per step); steady growth without bound means divergence.
        module.log("train/max_q", q_values.max(dim=1).values.mean(), batch_size=batch_size)
        if finished:
            log_episodes(module, finished)
            # the progress bar shows the newest returns; logger=False: the points above are the curve
            returns = [episode.ret for episode in finished]
            module.log("train/episode_return", sum(returns) / len(returns), prog_bar=True, logger=False)
            finished.clear()
        log_env_steps(module)

    def epoch_started(self, env_steps: int) -> None:
        """``env_steps``: the agent steps (all processes) as its epoch's training starts."""
        self.epoch_clock = (time.perf_counter(), env_steps)

    def epoch_ended(
        self, module: L.LightningModule, env_steps: int, env_frames: int | None, episodes: int, epsilon: float
    ) -> None:
        """Once per epoch, so the per-step cost stays low: counters (agent steps and, where counted, frames: see
        rl/steps.py), epsilon and throughput."""
        start_time, start_steps = self.epoch_clock
        module.log("train/env_steps", float(env_steps))
        if env_frames is not None:
            module.log("train/env_frames", float(env_frames))
        module.log("train/episodes", float(episodes))
        module.log("train/epsilon", epsilon)
        module.log("train/env_steps_per_s", (env_steps - start_steps) / max(time.perf_counter() - start_time, 1e-9))
        log_env_steps(module)

    def state_dict(self) -> dict[str, Any]:
        loss_sum = None if self.loss_sum is None else self.loss_sum.detach().cpu()
        return {"loss_sum": loss_sum, "loss_count": self.loss_count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # Kept on the CPU: a 0-dim CPU tensor adds to a loss on any device (the module may not be there yet).
        self.loss_sum, self.loss_count = state["loss_sum"], state["loss_count"]
