"""xjit."""
