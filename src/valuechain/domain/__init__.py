"""The model and its rules: pure Python, no I/O, no framework."""
