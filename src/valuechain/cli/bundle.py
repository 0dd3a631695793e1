"""`valuechain import` and `valuechain export` (being written)."""
