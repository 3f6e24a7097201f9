"""What young people are told about their privacy, in their words (content/privacy.yml)."""
