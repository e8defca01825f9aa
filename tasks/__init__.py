"""turngym.tasks."""
