"""`valuechain serve` and `valuechain demo` (being written)."""
