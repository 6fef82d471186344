"""``jiefen bench generate``: the bulk case generator lives in workflows/demo/bulk.py (the demo
loads a year of history with it); this name stays for the benchmarks and their docs."""

from workflows.demo.bulk import *  # noqa: F403
from workflows.demo.bulk import generate, load_district  # noqa: F401
