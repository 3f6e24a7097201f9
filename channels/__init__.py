"""Rasa's side of its boundary with the app: the input channel (loaded by Rasa from credentials.yml)
and the server's entry point (channels/server.py)."""
