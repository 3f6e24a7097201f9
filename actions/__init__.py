"""Custom actions for the Rasa action server, split by concern."""
