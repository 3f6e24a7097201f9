"""Safeguarding signals and decisions, shared by the Rasa side and the app.

Pure Python on spaCy (any 3.x), with no Rasa import, so the same code reads
messages in the NLU pipeline, decides in the action server, and stands in for
both in the app when they are down.
"""
