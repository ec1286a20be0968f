"""Run TinyNet forward on example inputs and print the outputs.

python -m lightning_modules.tiny_forward                      # seeded random weights, two examples
python -m lightning_modules.tiny_forward 1 2 3 0.5 -1 0       # your inputs, 3 numbers per example
python -m lightning_modules.tiny_forward --ckpt runs/tiny_net/checkpoints/best.ckpt
"""

from __future__ import annotations

import argparse

import torch

from lightning_modules.tiny import TinyNet


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run TinyNet forward on example inputs and print the outputs.")
    parser.add_argument("values", nargs="*", type=float, help="inputs, 3 per example (default: two examples)")
    parser.add_argument("--ckpt", help="a TinyNet checkpoint (e.g. from `cli.py fit --config configs/tiny_net.yaml`)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights when no --ckpt is given")
    args = parser.parse_args(argv)
    values = args.values or [1.0, 2.0, 3.0, 0.5, -1.0, 0.0]
    if len(values) % 3:
        parser.error(f"give inputs in groups of 3 (one group per example), got {len(values)} numbers")
    if args.ckpt:
        model = TinyNet.load_from_checkpoint(args.ckpt, map_location="cpu", weights_only=True)
    else:
        torch.manual_seed(args.seed)
        model = TinyNet()
    model.eval()
    inputs = torch.tensor(values).reshape(-1, 3)  # (examples, 3)
    with torch.no_grad():
        logits = model(inputs)
    print(model.net)
    for row_in, row_out, prob in zip(inputs.tolist(), logits.tolist(), logits.softmax(-1).tolist(), strict=True):
        print(f"input {row_in} -> logits {[round(v, 4) for v in row_out]}, P(class 1) = {prob[1]:.3f}")


if __name__ == "__main__":
    main()
