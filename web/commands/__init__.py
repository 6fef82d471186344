"""CLI command groups of the ``jiefen`` console script; each module registers its own commands."""
