"""The audit log: who read, exported or deleted what, role changes and sign-ins; append-only, never message text."""
