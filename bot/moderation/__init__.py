"""Moderators review transcripts to improve the service; every view is logged."""
