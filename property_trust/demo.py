"""Demo: filled in later."""
