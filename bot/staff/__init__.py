"""Helpline staff and moderator accounts, sign-in and sessions."""
