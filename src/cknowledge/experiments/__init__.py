"""Recorded experiments: measuring with repetitions, statistics, compare, replay, drift."""
