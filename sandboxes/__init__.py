"""turngym.sandboxes."""
