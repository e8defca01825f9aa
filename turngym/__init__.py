"""turngym.turngym."""
