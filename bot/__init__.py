"""The application: teen-facing gateway and widget, helpline console, moderation, storage."""
