"""The cockpit's rollups: what each case contributes (facts.py), kept current in the case's own
transaction and rebuilt from the cases on demand (maintain.py)."""
