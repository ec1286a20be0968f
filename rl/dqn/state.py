"""The layout of the DQN's checkpointed state: one part per process, gathered in rank order, beside the parts
every process shares; and the translation of the layout written before the parts owned their state.

Every process has its own replay buffer, environments and experience stream; Lightning calls
``on_save_checkpoint`` in every process but writes only process 0's dict, so the processes' own parts are gathered
into it. This module only arranges dicts the agent's parts made (``state_dict``): it knows nothing of the agent.
Torch's RNG states are not here: ``lightning_classics.runs.resume.ResumeState`` saves every process's.
"""

from __future__ import annotations

from typing import Any

from lightning_classics.runs.errors import UserError
from lightning_classics.runs.processes import gather, rank_and_world


def gather_state(own: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """``own``: this process's parts; ``shared``: the parts all processes have alike (process 0's are written).
    A collective call: every process is in ``on_save_checkpoint`` together."""
    return {"processes": gather(own), **shared}


def own_state(state: dict[str, Any], resuming: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(this process's parts, the shared parts) of a checkpoint's state, in either layout. Only resuming training
    needs as many processes as wrote it; testing or playing uses no buffer, so any process's part will do."""
    if "stop_rule" not in state:
        state = _from_first_layout(state)
    processes = state["processes"]
    rank, world = rank_and_world()
    if resuming and len(processes) != world:
        raise UserError(
            f"the checkpoint holds the state of {len(processes)} process(es), this run has {world}: "
            f"resume with --trainer.devices {len(processes)}"
        )
    shared = {key: value for key, value in state.items() if key != "processes"}
    return processes[min(rank, len(processes) - 1)], shared


def _from_first_layout(state: dict[str, Any]) -> dict[str, Any]:
    """The layout of checkpoints written before the parts owned their state: the stream's batches ahead, the
    loss summed since the last log and the stop rule's fields sat beside the rest (some only in later versions:
    those resume as from an epoch boundary); torch's RNG state, saved there too, is left to ResumeState's copy."""
    processes = []
    for own in state["processes"]:
        loss_sum, loss_count = own.get("loss_since_log", (None, 0))
        processes.append(
            {
                "buffer": own["buffer"],
                "env_loop": own["env_loop"],
                "steps_owed": own["steps_owed"],
                "stream": {"ahead": own.get("ahead", [])},
                "curves": {"loss_sum": loss_sum, "loss_count": loss_count},
            }
        )
    stop_rule = {"solved_at": state["solved_at"], "streak": state["stop_streak"]}
    return {"processes": processes, "epsilon": state["epsilon"], "stop_rule": stop_rule}
