"""DQN as a LightningModule: the agent's networks, update rule, evaluation and checkpointed state."""

from __future__ import annotations

import copy
import functools
from typing import Any, Literal

import gymnasium as gym
import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.data import AttributeDict
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torch.utils.data import DataLoader

from lightning_classics.runs.fused_optimizers import build_optimizer, may_fuse
from lightning_classics.runs.processes import check_identical, gather, rank_and_world
from rl.checkpointing import AGENT_STATE_KEY
from rl.dqn.arguments import StopReturn, check_arguments, check_observations, stop_target
from rl.dqn.curves import TrainingCurves
from rl.dqn.env_loop import EnvLoop
from rl.dqn.frame_replay import replay_buffer_for
from rl.dqn.network import q_network_for
from rl.dqn.replay import Batch
from rl.dqn.state import gather_state, own_state
from rl.dqn.stopping import StopRule
from rl.dqn.stream import ExperienceStream
from rl.dqn.td import batch_loss, update_target
from rl.evaluation import EvaluationRun, Policy, greedy_policy, log_everywhere_same
from rl.schedules import linear_lr_decay, linear_schedule, planned_updates
from rl.seeds import training_seed
from rl.wrappers import build_env, discrete_actions


class DQN(L.LightningModule):
    """Deep Q-Network (Mnih et al., 2015) on a gymnasium environment with discrete actions.

    One training step = ``train_freq`` agent steps (epsilon-greedy, into the replay buffer) and one
    gradient step on a batch drawn from the buffer. One epoch = ``steps_per_epoch`` training steps, followed
    by a greedy evaluation (``val/mean_return``) and the checkpoints.

    The defaults are DQN as published (experience replay, a hard-updated target network, Huber loss, gradient
    clipping) with hyperparameters tuned on CartPole; the presets switch the other techniques on or these off.
    """

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    checkpoint_metric = "val/sustained_return"  # what the CLI's best checkpoint maximises (rl/dqn/stopping.py)

    def __init__(
        self,
        env_id: str = "CartPole-v0",
        hidden_sizes: tuple[int, ...] = (64, 64),
        dueling: bool = False,
        lr: float = 2.3e-3,
        lr_end: float | None = None,
        gamma: float = 0.99,
        batch_size: int = 128,
        replay: bool = True,
        buffer_size: int = 50_000,
        learning_starts: int = 1_000,
        train_freq: int = 4,
        num_envs: int = 1,
        steps_per_epoch: int = 250,
        target_network: bool = True,
        target_update_interval: int = 100,
        tau: float = 1.0,
        double_dqn: bool = False,
        n_steps: int = 1,
        loss: Literal["huber", "mse"] = "huber",
        max_grad_norm: float | None = 10.0,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.02,
        epsilon_decay_steps: int = 10_000,
        exploration_hold: int = 1,
        frame_skip: int = 1,
        frame_stack: int = 1,
        val_episodes: int = 100,
        test_episodes: int = 1000,
        stop_return: StopReturn = "reward_threshold",
        stop_evaluations: int = 3,
        num_threads: int | None = 1,
        pixels: bool = False,
        downscale: int = 5,
        encoder: Literal["nature", "small"] = "nature",
        clip_rewards: bool = False,
        one_hot_observations: bool = False,
    ) -> None:
        """
        Args:
            env_id: Gymnasium environment id (discrete actions, vector observations), e.g. ``CartPole-v1``.
            hidden_sizes: Widths of the Q-network's hidden layers.
            dueling: Dueling head: ``Q = V(s) + A(s, a) - mean_a A(s, a)``.
            lr: Adam learning rate.
            lr_end: Learning rate at the last training step, reached by a linear decay from ``lr`` over the run's
                ``max_epochs * steps_per_epoch`` steps: late updates then refine the policy instead of unsettling
                it. ``null``: ``lr`` throughout.
            gamma: Discount factor per agent step (one agent step spans ``frame_skip`` frames).
            batch_size: Transitions per gradient step.
            replay: Experience replay: learn from batches drawn uniformly from the last ``buffer_size``
                transitions. ``false``: learn from the newest ``batch_size`` transitions only (online Q-learning).
            buffer_size: Capacity of the replay buffer (oldest transitions are overwritten).
            learning_starts: Transitions collected with uniformly random actions before the first update.
            train_freq: Agent steps (rl/steps.py) (summed over the ``num_envs`` copies) per training step (gradient step).
            num_envs: Copies of the environment stepped together (gymnasium's ``SyncVectorEnv``), with one network
                call choosing all their actions. Updates per agent step stay ``1 / train_freq``.
            steps_per_epoch: Training steps per epoch; evaluation and checkpoints come after each epoch, i.e.
                every ``steps_per_epoch * train_freq`` agent steps (the first epoch also holds the warm-up).
            target_network: Compute TD targets with a slowly updated copy of the Q-network. ``false``: with the
                Q-network itself (no gradient through the targets).
            target_update_interval: Training steps between target-network updates.
            tau: Each update moves the target weights this fraction towards the online ones: 1 = hard copy,
                small values (with ``target_update_interval: 1``) = soft (Polyak) averaging.
            double_dqn: Double DQN: the online network picks the next action, the target network values it.
            n_steps: Rewards summed before bootstrapping (n-step returns); 1 is one-step Q-learning.
            loss: TD loss, ``huber`` (robust to large TD errors) or ``mse``.
            max_grad_norm: Clip the gradient's global L2 norm to this value; ``null`` disables clipping.
            epsilon_start: Chance of a random action at agent step 0 (the warm-up acts uniformly at random).
            epsilon_end: Chance of a random action once the linear decay has finished, kept to the end.
            epsilon_decay_steps: Agent steps (from step 0) over which epsilon falls from start to end.
            exploration_hold: Temporally extended epsilon-greedy: a random action is held for a zeta(2)-distributed
                number of agent steps, at most this many (rl/dqn/exploration.py); 1 = plain epsilon-greedy.
            frame_skip: Repeat each action for this many frames and sum their rewards (1 = off).
            frame_stack: The state is the concatenation of the last this-many observations (1 = off).
            val_episodes: Greedy episodes per evaluation (fixed seeds). Stopping and ``best.ckpt`` rest on their
                mean; size it with ``stop_evaluations`` (rl/dqn/stopping.py says how).
            test_episodes: Greedy episodes of ``test`` (seeds 0, 1, ...; disjoint from validation's).
            stop_return: End training once ``stop_evaluations`` evaluations in a row have a mean return of at
                least this: ``reward_threshold`` (the default), the environment's registered one (CartPole-v0 195,
                Acrobot-v1 -100; none registered: never stop); ``full_score``, the most an episode can return
                where lasting to the time limit scores it (CartPole: every validation episode at the cap); a
                number; or ``null``: never stop, train for ``max_epochs``. A number no episode can reach is refused.
            stop_evaluations: Consecutive evaluations that must all reach ``stop_return`` to stop; the lowest of
                the last this-many means is ``val/sustained_return``, which picks ``best.ckpt``.
            num_threads: CPU threads for torch while this module runs (restored afterwards); ``null`` keeps
                torch's default. For networks this small one thread is fastest: handing each tiny operation to
                other threads costs more than its arithmetic, and far more on a machine busy with other work.
            pixels: Observe images instead of the state vector: stacks of ``frame_stack`` uint8 frames read by a
                CNN (see rl/pixels.py). CartPole: its rendered frames, cropped, grayscale, downscaled. Atari ids
                (``ALE/Pong-v5``) always observe pixels, preprocessed as in the DQN paper.
            downscale: Pixel observations of classic-control tasks: the cropped render shrinks by this factor.
            encoder: The CNN in front of the hidden layers for pixels: ``nature`` (the DQN paper's, for 84x84
                Atari frames) or ``small`` (two layers for small frames such as CartPole's 16x60).
            clip_rewards: Train on the reward's sign (-1, 0, +1) as the DQN paper did on Atari; evaluation still
                reports the true score.
            one_hot_observations: For environments whose observation is an integer label (``Taxi-v4``'s state
                number, ``FrozenLake-v1``'s cell): feed the network a one-hot vector of the label, one input per value.
        """
        super().__init__()
        check_arguments(
            lr, gamma, tau, batch_size, buffer_size, replay, lr_end=lr_end,
            train_freq=train_freq, num_envs=num_envs, steps_per_epoch=steps_per_epoch,
            target_update_interval=target_update_interval, n_steps=n_steps, frame_skip=frame_skip,
            frame_stack=frame_stack, val_episodes=val_episodes, test_episodes=test_episodes,
            stop_evaluations=stop_evaluations, exploration_hold=exploration_hold, learning_starts=learning_starts, epsilon_decay_steps=epsilon_decay_steps,
            hidden_sizes=hidden_sizes, max_grad_norm=max_grad_norm, epsilon_start=epsilon_start, epsilon_end=epsilon_end,
        )  # fmt: skip
        # Every argument is a primitive, so checkpoints load with torch.load(weights_only=True).
        self.save_hyperparameters()
        probe = self.make_env()  # what the agent sees: sizes and the spec
        check_observations(env_id, probe.unwrapped.observation_space, one_hot_observations)
        obs_shape = probe.observation_space.shape or ()
        num_actions = discrete_actions(probe)
        self.q_net = q_network_for(obs_shape, num_actions, hidden_sizes, dueling, encoder)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False) if target_network else None
        # Without replay the buffer only needs to hold one batch: the newest transitions.
        # Frame stacks go to a buffer that stores each frame once (rl/dqn/frame_replay.py).
        self.buffer = replay_buffer_for(buffer_size if replay else batch_size, obs_shape)
        self.warmup = max(1, min(learning_starts, self.buffer.capacity))
        # the training copies may differ from the evaluation's (clipped rewards, life loss as terminal)
        self.env_loop = EnvLoop(
            functools.partial(self.make_env, training=True), num_envs, self.buffer, n_steps, gamma, exploration_hold
        )
        self.steps_owed = 0  # agent steps the acting side owes the updates done so far (see collect)
        self.epsilon = 1.0  # exploration rate of the latest agent step
        threshold = probe.spec.reward_threshold if probe.spec else None
        target = stop_target(env_id, probe.spec, stop_return)
        self.stop_rule = StopRule(env_id, val_episodes, target, threshold, stop_evaluations)
        self.curves = TrainingCurves(batch_size)
        self.example_input_array = torch.zeros(1, *obs_shape)
        self.evaluation = EvaluationRun(self.make_env)
        self._threads_before: int | None = None
        # the training loader's dataset; made here so that a checkpoint can restore its batches ahead
        self.stream = ExperienceStream(self.collect, self.draw, steps_per_epoch)
        # Processes whose experience env_loop's count is one share of: this run's when training, the checkpoint's
        # when validating or testing it on another number of processes (set when a checkpoint is loaded).
        self.acting_processes = 1

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.q_net(observations)  # (B, obs_dim) -> (B, num_actions)

    @property
    def solve_threshold(self) -> float | None:
        """The environment's ``reward_threshold``: a mean evaluation return that counts as solving it."""
        return self.stop_rule.reward_threshold

    @property
    def solved_at(self) -> int | None:
        """Agent steps at the first evaluation at the environment's reward threshold (``None``: not yet)."""
        return self.stop_rule.solved_at

    @property
    def env_steps(self) -> int:
        """Agent steps (rl/steps.py) of all processes that acted together (each steps as often as the others)."""
        return self.env_loop.env_steps * self.acting_processes

    def env_frames(self) -> int | None:
        """Frames (rl/steps.py) of all processes; ``None`` where not counted. A collective call while training
        with several processes: their frames differ where their episodes ended inside a skipped action."""
        counts = gather(self.env_loop.env_frames)
        return None if None in counts else sum(count for count in counts if count is not None)

    def planned_env_steps(self) -> int:
        """Agent steps of the coming epoch, all processes together (the progress bar's total): its updates'
        ``steps_per_epoch * train_freq`` and what is left of the random warm-up."""
        hp = self.hparams
        warmup_left = max(0, self.warmup - len(self.buffer))
        return (hp.steps_per_epoch * hp.train_freq + warmup_left) * rank_and_world()[1]

    # ---- the agent interface of rl.play ---------------------------------------------------------------------

    def make_env(self, render_mode: str | None = None, training: bool = False) -> gym.Env:
        """A fresh environment as the agent sees it (frame skipping and stacking included). ``training``: the
        one it learns in, which may differ from the evaluation's (clipped rewards, life loss as terminal)."""
        hp = self.hparams
        return build_env(
            hp.env_id,
            hp.frame_skip,
            hp.frame_stack,
            render_mode=render_mode,
            one_hot=hp.get("one_hot_observations", False),  # absent from checkpoints saved before the option
            pixels=hp.pixels,
            downscale=hp.downscale,
            training=training,
            clip_rewards=hp.clip_rewards and training,
        )

    def act(self, observation) -> int:
        """The greedy action: the highest Q-value for one observation."""
        batch = np.asarray(observation)[None]  # (*obs_shape) -> (1, *obs_shape)
        return int(greedy_policy(self.q_net, self.device)(batch)[0])

    # ---- acting: the data of the training loop -------------------------------------------------------------

    def setup(self, stage: str) -> None:
        if self.hparams.num_threads is not None:
            self._threads_before = torch.get_num_threads()
            torch.set_num_threads(self.hparams.num_threads)
        if stage == "fit":
            self.acting_processes = rank_and_world()[1]  # a checkpoint restored after setup must match it
        if stage == "fit" and not self.env_loop.started:
            # Seeded by seed_everything (the same seed in every process); resuming overwrites this state.
            rank, _ = rank_and_world()
            self.env_loop.reset(seed=training_seed(np.random.default_rng(torch.initial_seed()), rank))
            if rank > 0:  # its own replay samples too (process 0 keeps the single-process stream)
                torch.manual_seed(training_seed(np.random.default_rng(torch.initial_seed() + 1), rank))

    def on_fit_start(self) -> None:
        rank_zero_info(self.stop_rule.describe())  # what ends this run, in one line

    def teardown(self, stage: str) -> None:
        if self._threads_before is not None:
            torch.set_num_threads(self._threads_before)
            self._threads_before = None

    def epsilon_at(self, env_steps: int) -> float:
        """Exploration rate after ``env_steps`` agent steps."""
        hp = self.hparams
        return linear_schedule(env_steps, hp.epsilon_start, hp.epsilon_end, hp.epsilon_decay_steps)

    def collect(self) -> None:
        """``train_freq`` epsilon-greedy agent steps per training step, preceded by the random warm-up.

        One vector step moves ``num_envs`` environments at once, so with more copies than ``train_freq`` a vector
        step runs only every few training steps: the debt in ``steps_owed`` keeps the ratio of updates to
        agent steps at ``1 / train_freq`` whatever ``num_envs`` is.
        """
        loop = self.env_loop
        while len(self.buffer) < self.warmup:
            loop.step(self.q_net, epsilon=1.0)
        self.steps_owed += self.hparams.train_freq
        while self.steps_owed > 0:
            self.epsilon = self.epsilon_at(loop.env_steps)
            loop.step(self.q_net, self.epsilon)
            self.steps_owed -= loop.num_envs

    def draw(self) -> Batch:
        if self.hparams.replay:
            return self.buffer.sample(self.hparams.batch_size)
        return self.buffer.latest(self.hparams.batch_size)

    def train_dataloader(self) -> DataLoader:
        # lightning_classics.runs.resume.ResumeState tells the stream where a resumed epoch starts (set_position)
        return self.stream.loader()

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> None:
        self.stream.taken()  # what a checkpoint must hold as made but not trained on (see ExperienceStream)

    # ---- learning ------------------------------------------------------------------------------------------

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        hp = self.hparams
        # The target update due after every target_update_interval-th update happens here, before the next
        # update's loss (global_step counts the updates done): the same arithmetic as right after that update, but
        # a checkpoint written in between (callbacks' on_train_batch_end run before the module's) resumes exactly.
        step = self.global_step
        if self.target_net is not None and step > 0 and step % hp.target_update_interval == 0:
            update_target(self.target_net, self.q_net, hp.tau)
        loss, q_values = batch_loss(self.q_net, self.target_net, batch, hp.gamma, hp.double_dqn, hp.loss)
        self.curves.after_update(self, loss.detach(), q_values.detach(), self.env_loop.finished)
        return loss

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        if self.hparams.max_grad_norm is not None:
            self.clip_gradients(optimizer, gradient_clip_val=self.hparams.max_grad_norm, gradient_clip_algorithm="norm")

    def on_train_batch_end(self, outputs: Any, batch: Batch, batch_idx: int) -> None:
        hp = self.hparams
        if batch_idx == hp.steps_per_epoch - 1:
            self.curves.epoch_ended(self, self.env_steps, self.env_frames(), self.env_loop.episodes, self.epsilon)

    def on_train_epoch_start(self) -> None:
        self.curves.epoch_started(self.env_steps)

    def configure_optimizers(self) -> torch.optim.Optimizer | OptimizerLRSchedulerConfig:
        # Fused: one kernel for the whole update; for tiny networks per-tensor overhead dominates the step.
        hp = self.hparams
        fuse = may_fuse(self._trainer, hp.max_grad_norm)  # _trainer: None outside a Trainer (benchmarks)
        optimizer = build_optimizer(torch.optim.Adam, self.q_net.parameters(), fuse, lr=hp.lr)
        if hp.get("lr_end") is None:  # absent from checkpoints saved before the option
            return optimizer
        schedule = linear_lr_decay(optimizer, hp.lr, hp.lr_end, planned_updates(self.trainer, hp.steps_per_epoch))
        # name: the curve's TensorBoard tag, as the classifiers' (lightning_classics/callbacks/training_curves.py)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step", "name": "train/lr"}}

    # ---- evaluation ----------------------------------------------------------------------------------------

    def val_dataloader(self) -> DataLoader:
        return self.evaluation.loader("val", self.hparams.val_episodes)

    def test_dataloader(self) -> DataLoader:
        return self.evaluation.loader("test", self.hparams.test_episodes)

    def greedy_policy(self) -> Policy:
        """The Q-network's greedy actions, for a batch of observations."""
        return greedy_policy(self.q_net, self.device)

    def validation_step(self, seeds: list[int], batch_idx: int) -> None:
        self.evaluation.play(self.greedy_policy(), seeds)

    def test_step(self, seeds: list[int], batch_idx: int) -> None:
        self.evaluation.play(self.greedy_policy(), seeds)

    def on_validation_epoch_start(self) -> None:
        self.evaluation.start()

    def on_validation_epoch_end(self) -> None:
        env_steps = float(self.env_steps)  # "step": the x-axis, as log_env_steps gives
        mean_return = self.evaluation.log(self, "val", {"val/env_steps": env_steps, "step": env_steps})
        if self.trainer.sanity_checking or self.trainer.state.fn != "fit" or mean_return is None:
            return
        if self.target_net is not None:
            # Each process copies its online network, which DDP keeps identical: the copies must agree too.
            check_identical(self.target_net, "target network")
        if self.stop_rule.update(mean_return, self.env_steps):
            self.trainer.should_stop = True
        sustained = {"val/sustained_return": self.stop_rule.sustained_return}
        log_everywhere_same(self, {**sustained, "val/solved": float(self.solved_at is not None)})

    def on_test_epoch_start(self) -> None:
        self.evaluation.start()

    def on_test_epoch_end(self) -> None:
        self.evaluation.log(self, "test")

    # ---- checkpoints: everything a faithful resume needs beyond weights and optimizer ----------------------
    # Each part owns its state; the agent composes them (layout: rl/dqn/state.py). Torch's RNG states are saved by
    # lightning_classics.runs.resume.ResumeState, which Lightning restores after this hook.

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        own = {
            "buffer": self.buffer.state_dict(),
            "env_loop": self.env_loop.state_dict() if self.env_loop.started else None,
            "steps_owed": self.steps_owed,
            "stream": self.stream.state_dict(),
            "curves": self.curves.state_dict(),
        }
        shared = {"epsilon": self.epsilon, "stop_rule": self.stop_rule.state_dict()}
        checkpoint[AGENT_STATE_KEY] = gather_state(own, shared)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        resuming = self._trainer is not None and self.trainer.state.fn == "fit"
        own, shared = own_state(checkpoint[AGENT_STATE_KEY], resuming)
        # its agent steps are the checkpoint's, whatever this run's number of processes
        self.acting_processes = len(checkpoint[AGENT_STATE_KEY]["processes"])
        self.buffer.load_state_dict(own["buffer"])
        if own["env_loop"] is not None:
            self.env_loop.load_state_dict(own["env_loop"])
        self.steps_owed = own["steps_owed"]
        if resuming:  # what only training goes on with: the batches made ahead, the loss since the last log
            self.stream.load_state_dict(own["stream"])
            self.curves.load_state_dict(own["curves"])
        self.epsilon = shared["epsilon"]
        self.stop_rule.load_state_dict(shared["stop_rule"])
