"""Figures of test results and learning curves (matplotlib, written as PNG)."""
