"""Conversations with young people and their ordered event log."""
