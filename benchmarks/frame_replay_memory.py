"""Memory of the frame-once replay buffer, measured: ``python -m benchmarks.frame_replay_memory [--capacity N]``.

Fills a :class:`FrameReplayBuffer` to capacity (and once around) with the transitions an agent adds: stacks of
the last 4 frames, each step shifting one new frame in, 2,000-step episodes starting from a repeated first frame
(Pong-like lengths). Frames are distinct (a counter in their first bytes), so nothing is shared by accident.
Reports the buffer's allocated bytes per transition and the process's resident memory before and after, next
to what storing both stacks of every transition would take.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rl.dqn.frame_replay import FrameReplayBuffer


def resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def frame(counter: int, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, 7, dtype=np.uint8)
    out.reshape(-1)[:8] = np.frombuffer(np.int64(counter).tobytes(), dtype=np.uint8)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=1_000_000, help="transitions the buffer holds")
    parser.add_argument("--size", type=int, default=84, help="frames are size x size (84: Atari)")
    parser.add_argument("--episode", type=int, default=2000, help="agent steps per episode")
    args = parser.parse_args(argv)
    shape, stack = (args.size, args.size), 4
    before = resident_bytes()
    buffer = FrameReplayBuffer(args.capacity, (stack, *shape))
    allocated = resident_bytes()
    counter = 0
    start = time.perf_counter()
    for step in range(args.capacity + args.capacity // 10):  # full, then 10% around the ring
        if step % args.episode == 0:  # an episode starts: its first frame repeated
            counter += 1
            stacked = [frame(counter, shape)] * stack
        counter += 1
        next_stacked = [*stacked[1:], frame(counter, shape)]
        buffer.add(np.stack(stacked), step % 6, 0.0, np.stack(next_stacked), False, 1)
        stacked = next_stacked
    seconds = time.perf_counter() - start
    after = resident_bytes()
    frame_bytes = shape[0] * shape[1]
    live = int(np.count_nonzero(buffer.store.refs))
    print(f"capacity {args.capacity:,} transitions of ({stack}, {shape[0]}, {shape[1]}) uint8 stacks")
    print(f"frames alive: {live:,} ({live / len(buffer):.4f} per transition), store slots {buffer.store.capacity:,}")
    print(
        f"buffer storage: {buffer.nbytes() / 1e9:.3f} GB = {buffer.nbytes() / args.capacity:,.0f} bytes per transition"
    )
    print(f"  (one frame is {frame_bytes:,} bytes; both stacks stored would be {2 * stack * frame_bytes:,})")
    print(
        f"resident memory: {before / 1e9:.3f} GB before, {allocated / 1e9:.3f} GB allocated, {after / 1e9:.3f} GB full"
    )
    print(f"fill: {seconds:.1f} s ({1e6 * seconds / (args.capacity * 1.1):.1f} us per add)")


if __name__ == "__main__":
    main()
