"""Demo data (filled in later)."""
