"""The project's component instances (``dg`` loads every ``defs.yaml`` below this folder)."""
