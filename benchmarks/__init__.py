"""Scripts behind BENCHMARKS.md; run each from the repository root as ``python -m benchmarks.NAME``."""
