"""Use cases and transactions: what the edges (CLI, API, web, jobs) call."""
