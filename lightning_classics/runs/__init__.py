"""Run folders, crash-safe checkpoints and exact resume: the machinery behind ``cli.py``'s runs."""
