"""The embeddable chat widget for young people."""
