"""Behaviour that is not modality-specific, built on the same hooks as any plugin (as Datasette builds its own)."""
