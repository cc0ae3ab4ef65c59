"""Operating a stack: `backfill`, `redrive`, `status` and `reconcile` (`commands.py` is the entry)."""
