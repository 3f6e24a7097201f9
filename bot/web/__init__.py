"""Pages for young people: the chat page."""
