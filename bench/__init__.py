"""turngym.bench."""
