"""Background work through the task queue (reminders, SLA alerts, scheduled reports)."""
