"""Statistics, graph and flow computations: pure functions over arrays and frames."""
