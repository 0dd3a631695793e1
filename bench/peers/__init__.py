"""Peer scripts: the same answers as a valuechain command, written with another tool
the way a competent analyst would, each a whole process from the bundle's CSV files
(timed against the command by ``bench.bench_peers``)."""
