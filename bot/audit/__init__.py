"""The audit log: every view of a transcript, by whom and why."""
