"""The bridge to the dialogue engine (Rasa) and what the app does with its replies."""
