"""The command line: a thin edge over :class:`valuechain.Valuechain`."""
