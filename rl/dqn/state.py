"""What a faithful DQN resume needs beyond weights and optimizer, for one process or several.

Every process has its own replay buffer, environments and RNGs; Lightning calls ``on_save_checkpoint`` in every
process but writes only process 0's dict, so the processes' own states are gathered into it, in rank order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from rl.distributed import gather, rank_and_world
from rl.dqn.replay import Batch

if TYPE_CHECKING:
    from rl.dqn.agent import DQN


def save_state(agent: DQN) -> dict[str, Any]:
    ahead = list(agent.stream.ahead) if agent.stream is not None else []
    loss_sum = agent.curves.loss_sum
    own = {
        "buffer": agent.buffer.state_dict(),
        "env_loop": agent.env_loop.state_dict() if agent.env_loop.observations is not None else None,
        "steps_owed": agent.steps_owed,
        "torch_rng": torch.get_rng_state(),  # replay sampling
        # Mid-epoch: the batch Lightning already fetched (its acting and replay draw are in the state above).
        "ahead": [{name: field.cpu() for name, field in batch._asdict().items()} for batch in ahead],
        # The training loss is logged as the mean since the last log: the part summed before the checkpoint.
        "loss_since_log": (None if loss_sum is None else loss_sum.cpu(), agent.curves.loss_count),
    }
    return {
        "processes": gather(own),  # a collective call: every process is in on_save_checkpoint together
        "epsilon": agent.epsilon,
        "solved_at": agent.stop_rule.solved_at,
        "stop_streak": agent.stop_rule.streak,
    }


def load_state(agent: DQN, state: dict[str, Any], resuming: bool) -> None:
    """Each process takes its own part; only resuming training needs as many processes as wrote it."""
    processes = state["processes"]
    rank, world = rank_and_world()
    if resuming and len(processes) != world:
        raise ValueError(
            f"the checkpoint holds the state of {len(processes)} process(es), this run has {world}: "
            f"resume with --trainer.devices {len(processes)}"
        )
    own = processes[min(rank, len(processes) - 1)]  # testing or playing uses no buffer: any part will do
    agent.acting_processes = len(processes)  # its env steps are the checkpoint's, whatever this run's processes
    agent.buffer.load_state_dict(own["buffer"])
    if own["env_loop"] is not None:
        agent.env_loop.load_state_dict(own["env_loop"])
    agent.steps_owed = own["steps_owed"]
    torch.set_rng_state(own["torch_rng"])
    if resuming:  # (checkpoints written before these keys existed resume as from an epoch boundary)
        agent._resume_pending = [Batch(**fields) for fields in own.get("ahead", [])]
        agent._resume_rng = own["torch_rng"]
        loss_sum, agent.curves.loss_count = own.get("loss_since_log", (None, 0))
        agent.curves.loss_sum = None if loss_sum is None else loss_sum.to(agent.device)
    agent.epsilon = state["epsilon"]
    agent.stop_rule.solved_at = state["solved_at"]
    agent.stop_rule.streak = state["stop_streak"]
