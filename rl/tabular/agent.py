"""Tabular Q-learning as a LightningModule: the Lightning loop drives episodes, the Q-table is a buffer.

One "epoch" is ``episodes_per_epoch`` training episodes; each ``training_step`` plays ``episodes_per_step`` of
them start to finish (so a checkpoint never falls mid-episode) and updates the table after every agent step.
Validation and test play greedy episodes from fixed seeds, so their scores compare across checkpoints.
"""

from __future__ import annotations

import gymnasium as gym
import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.data import AttributeDict
from torch.utils.data import DataLoader, Dataset

from datamodules.epoch_sampler import PositionedSequentialSampler
from rl.arguments import at_least, in_range
from rl.checkpointing import AGENT_STATE_KEY, generator_from_state, generator_state
from rl.evaluation import EvaluationRun, Policy, log_env_steps
from rl.schedules import linear_schedule
from rl.seeds import training_seed
from rl.tabular.qlearning import training_episode
from rl.wrappers import build_env

# Evaluation episodes per validation/test step, played in lockstep: each Taxi environment builds its own
# transition table, so a few hundred are made once and reused rather than one per episode.
EVAL_EPISODES_PER_STEP = 100


class _Chunks(Dataset[list[int]]):
    """``range(start, stop)`` cut into runs of ``size`` numbers: each item is one step's episodes."""

    def __init__(self, start: int, stop: int, size: int) -> None:
        self.chunks = [list(range(i, min(i + size, stop))) for i in range(start, stop, size)]

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, index: int) -> list[int]:
        return self.chunks[index]


class TabularQLearning(L.LightningModule):
    """Q-learning with an epsilon-greedy behaviour policy on an env with discrete states and actions (Taxi)."""

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    checkpoint_metric = "val/mean_return"  # what the CLI's best checkpoint maximises

    def __init__(
        self,
        env_id: str = "Taxi-v4",
        lr: float = 0.1,
        gamma: float = 0.99,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.1,
        epsilon_decay_episodes: int = 500,
        q_init: float = 0.0,
        episodes_per_epoch: int = 1000,
        episodes_per_step: int = 10,
        val_episodes: int = 1000,
        test_episodes: int = 1000,
        seed: int | None = None,
    ) -> None:
        """
        Args:
            env_id: Gymnasium env with Discrete observations and actions (``Taxi-v4``; ``Taxi-v3`` is deprecated).
            lr: Step size of the update ``Q[s,a] += lr * (target - Q[s,a])``; 1.0 suits deterministic envs.
            gamma: Discount of future rewards in the target ``r + gamma * max_a Q[s',a]``.
            epsilon_start: Chance of a random action in the first training episode.
            epsilon_end: Chance of a random action once the schedule has finished decaying.
            epsilon_decay_episodes: Episodes over which epsilon falls linearly from start to end.
            q_init: Initial value of every Q-table entry; above every achievable return ("optimistic") makes
                each untried action look best until tried, a systematic form of exploration.
            episodes_per_epoch: Training episodes per Lightning epoch (one validation and checkpoint per epoch).
            episodes_per_step: Episodes played by one ``training_step``; more means less Lightning overhead.
            val_episodes: Greedy episodes, on fixed seeds, behind ``val/mean_return`` after every epoch.
            test_episodes: Greedy episodes, on fixed seeds, behind ``test/mean_return`` and ``test/std_return``.
            seed: Seed of exploration and of the training env; ``None`` derives it from ``seed_everything``.
        """
        super().__init__()
        in_range("lr", lr, 0.0, 1.0, low_open=True)
        in_range("gamma", gamma, 0.0, 1.0)
        at_least(1, episodes_per_epoch=episodes_per_epoch, episodes_per_step=episodes_per_step)
        at_least(1, val_episodes=val_episodes, test_episodes=test_episodes)
        at_least(0, epsilon_decay_episodes=epsilon_decay_episodes)
        self.save_hyperparameters()  # primitives only: checkpoints load with torch.load(weights_only=True)
        # Each training_step updates the table itself; Lightning must not look for a loss to backpropagate.
        self.automatic_optimization = False
        self.train_env = build_env(env_id)
        n_states, n_actions = self._discrete_sizes(self.train_env)
        # A buffer: saved in every checkpoint's state_dict, never touched by an optimizer. float64 so that many
        # small updates do not round away; the training loop edits it in place through a numpy view.
        self.register_buffer("q_table", torch.full((n_states, n_actions), float(q_init), dtype=torch.float64))
        self.episodes = 0  # training episodes played
        self.env_steps = 0  # agent steps of those episodes (= frames: no frame skip); the progress bar counts them
        # torch.initial_seed() is the seed_everything value, so `--seed_everything N` reseeds the agent too.
        self.rng = np.random.default_rng(torch.initial_seed() if seed is None else seed)
        self.evaluation = EvaluationRun(self.make_env, max_batch=EVAL_EPISODES_PER_STEP)

    @staticmethod
    def _discrete_sizes(env: gym.Env) -> tuple[int, int]:
        obs_space, action_space = env.observation_space, env.action_space
        if not isinstance(obs_space, gym.spaces.Discrete) or not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"tabular Q-learning needs Discrete spaces, got {obs_space} and {action_space}")
        return int(obs_space.n), int(action_space.n)

    def setup(self, stage: str) -> None:
        # Refuse before anything runs: the numpy view of table() would fail at the first step otherwise.
        if self.trainer.strategy.root_device.type != "cpu":
            raise ValueError(
                f"tabular Q-learning runs on the CPU, not {self.trainer.strategy.root_device}: "
                "set `--trainer.accelerator cpu` (configs/taxi_qlearning.yaml does)"
            )

    # ---- the agent interface that rl.play (and any evaluation) uses -------------------------------------------

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """A fresh env of the kind this agent was trained on."""
        return build_env(self.hparams.env_id, render_mode=render_mode)

    def act(self, obs) -> int:
        """The greedy action: the highest Q-value (the first one on ties)."""
        return int(self.table()[int(obs)].argmax())

    def table(self) -> np.ndarray:
        """The Q-table as a numpy view: writes to it change the buffer, with no per-step torch op."""
        if self.q_table.device.type != "cpu":
            raise RuntimeError(
                f"the Q-table is on {self.q_table.device}; tabular Q-learning runs on CPU "
                "(set `trainer.accelerator: cpu`)"
            )
        return self.q_table.numpy()

    @property
    def epsilon(self) -> float:
        """Exploration rate of the next training episode."""
        hp = self.hparams
        return linear_schedule(self.episodes, hp.epsilon_start, hp.epsilon_end, hp.epsilon_decay_episodes)

    # ---- training ---------------------------------------------------------------------------------------------

    def train_dataloader(self) -> DataLoader:
        # Each batch lists the episode numbers (within the epoch) that one training_step plays.
        hp = self.hparams
        chunks = _Chunks(0, hp.episodes_per_epoch, hp.episodes_per_step)
        # A sampler that can start part-way: a run resumed mid-epoch continues with the episodes not yet played.
        return DataLoader(chunks, batch_size=None, sampler=PositionedSequentialSampler(len(chunks)))

    def training_step(self, batch: list[int], batch_idx: int) -> None:
        hp = self.hparams
        q = self.table()
        returns, steps, epsilons = [], 0, []
        for _ in batch:
            epsilon = self.epsilon
            # Only the very first episode seeds the env (from the agent's seed); later resets continue the env's
            # own RNG, which checkpoints carry, so a resumed run meets the same start states.
            seed = training_seed(self.rng) if self.episodes == 0 else None
            episode_return, episode_steps = training_episode(
                self.train_env, q, epsilon, hp.lr, hp.gamma, self.rng, seed=seed
            )
            self.episodes += 1
            self.env_steps += episode_steps
            returns.append(episode_return)
            epsilons.append(epsilon)
            steps += episode_steps
        # Lightning counts global_step in optimizer steps, and ModelCheckpoint skips saving while global_step
        # stands still; stepping the no-op optimizer (configure_optimizers gave none) records one update.
        optimizer = self.optimizers()
        assert not isinstance(optimizer, list)  # one (no-op) optimizer
        optimizer.step()
        n = len(batch)
        self.log("train/episode_return", sum(returns) / n, on_step=True, on_epoch=True, batch_size=n, prog_bar=True)
        self.log("train/episode_length", steps / n, on_step=True, on_epoch=True, batch_size=n)
        self.log("train/epsilon", sum(epsilons) / n, on_step=True, on_epoch=False, batch_size=n)
        self.log("train/episodes", float(self.episodes), on_step=True, on_epoch=False, batch_size=n)
        # plots.curves draws the agent's curves against it; TensorBoard does through the logged "step"
        self.log("train/env_steps", float(self.env_steps), on_step=True, on_epoch=False, batch_size=n)
        log_env_steps(self)

    def on_train_epoch_end(self) -> None:
        log_env_steps(self)  # the epoch means of the episode curves, at the epoch's last agent step

    def configure_optimizers(self) -> None:
        return None  # the Q-update is applied by hand in training_step

    # ---- validation and test: greedy episodes on fixed seeds --------------------------------------------------

    def val_dataloader(self) -> DataLoader:
        return self.evaluation.loader("val", self.hparams.val_episodes)

    def test_dataloader(self) -> DataLoader:
        return self.evaluation.loader("test", self.hparams.test_episodes)

    def greedy_policy(self) -> Policy:
        """The greedy policy, fixed during an evaluation: read off the table once, then indexed per step."""
        return self.table().argmax(axis=1).__getitem__  # (n_states,) best actions

    def validation_step(self, seeds: list[int], batch_idx: int) -> None:
        self.evaluation.play(self.greedy_policy(), seeds)

    def test_step(self, seeds: list[int], batch_idx: int) -> None:
        self.evaluation.play(self.greedy_policy(), seeds)

    def on_validation_epoch_start(self) -> None:
        self.evaluation.start()

    def on_validation_epoch_end(self) -> None:
        self.evaluation.log(self, "val", {"step": float(self.env_steps)})  # the x-axis, as log_env_steps gives

    def on_test_epoch_start(self) -> None:
        self.evaluation.start()

    def on_test_epoch_end(self) -> None:
        self.evaluation.log(self, "test")

    # ---- checkpoints: the Q-table is in state_dict; the rest of what a resume needs goes here ----------------

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint[AGENT_STATE_KEY] = {
            "episodes": self.episodes,
            "env_steps": self.env_steps,
            "epsilon": self.epsilon,  # derived from episodes; stored so a reader sees it without the schedule
            "rng": generator_state(self.rng),
            "env_rng": generator_state(self.train_env.unwrapped.np_random),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get(AGENT_STATE_KEY)
        if state is None:
            return
        self.episodes = int(state["episodes"])
        self.env_steps = int(state.get("env_steps", 0))  # checkpoints written before the counter existed: 0
        self.rng = generator_from_state(state["rng"])
        self.train_env.unwrapped.np_random = generator_from_state(state["env_rng"])
