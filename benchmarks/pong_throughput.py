"""Pong DQN throughput on this machine: ``python -m benchmarks.pong_throughput [--steps N] [--updates N]``
(``--threads N``, ``--batch-size B`` and ``--device cuda`` change the updates).

Builds the agent of ``configs/pong_dqn.yaml`` as the CLI does, then measures separately:
- env frames/s: agent steps of the training environment (AtariPreprocessing, 4 emulator frames each, frame
  stack, reward clipping) with uniformly random actions, each stored in the frame-once replay buffer;
- updates/s: the agent's gradient step on replayed batches of 32 (Nature CNN, Double DQN targets from the
  target network, 3-step returns, Huber loss, Adam), through ``DQN.training_step`` without Lightning's loop.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from cli import main as cli_main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="agent steps to time")
    parser.add_argument("--updates", type=int, default=30, help="gradient updates to time")
    parser.add_argument("--device", default="cpu", help="where the updates run (cpu, cuda)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads of the updates (default: the preset's)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="transitions per update (default: the preset's)")
    args = parser.parse_args(argv)
    options = ["--model.buffer_size", "20000"]
    if args.batch_size is not None:
        options += ["--model.batch_size", str(args.batch_size)]
    cli = cli_main(["--config", "configs/pong_dqn.yaml", *options], run=False)
    agent: Any = cli.model
    loop = agent.env_loop
    loop.reset(seed=0)
    start = time.perf_counter()
    for _ in range(args.steps):
        loop.step(agent.q_net, epsilon=1.0)
    seconds = time.perf_counter() - start
    frames = args.steps * agent.hparams.frame_skip
    print(f"env: {args.steps} agent steps = {frames} frames in {seconds:.1f} s: {frames / seconds:,.0f} frames/s")

    device = torch.device(args.device)
    agent.to(device)
    agent.curves.after_update = lambda module, loss, q, finished: None  # no Trainer here to log to
    optimizer = agent.configure_optimizers()
    torch.set_num_threads(args.threads or agent.hparams.num_threads or torch.get_num_threads())

    def update() -> None:
        batch = type(agent.buffer.sample(1))(*(t.to(device) for t in agent.buffer.sample(agent.hparams.batch_size)))
        loss = agent.training_step(batch, 0)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(agent.q_net.parameters(), agent.hparams.max_grad_norm)
        optimizer.step()

    for _ in range(3):  # warm-up: first calls allocate
        update()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.updates):
        update()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    threads = torch.get_num_threads()
    batch = agent.hparams.batch_size
    print(
        f"updates ({device}, {threads} torch thread(s), batch {batch}): {args.updates} in {seconds:.1f} s: "
        f"{args.updates / seconds:.2f}/s ({args.updates * batch / seconds:.0f} samples/s)"
    )


if __name__ == "__main__":
    main()
