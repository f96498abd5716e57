"""The benchmarks (`make bench-*`): each measures tabship beside the baselines of the same run and
records the ratios in docs/benchmarks.md."""
