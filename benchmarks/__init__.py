"""The benchmarks behind docs/results.md: ``python -m benchmarks`` runs them by purpose (see registry.py);
each also runs alone from the repository root as ``python -m benchmarks.NAME``."""
