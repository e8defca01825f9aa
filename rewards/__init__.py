"""turngym.rewards."""
