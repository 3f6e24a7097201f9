"""Custom actions for the Rasa action server, split by concern."""

from actions.conversation_reading import assessor

# The server imports this package as it starts: the lexicon, the sentence encoder and the risk model
# load then, before its health check answers, and not while the first young person waits.
assessor()
