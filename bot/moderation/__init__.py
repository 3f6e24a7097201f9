"""Moderators review ended conversations, with identifying details hidden, to improve the service; every read is audited."""
