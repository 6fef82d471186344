"""A full run's worker process: ``python -m workflows.audit.verify_worker`` reads (database url,
audit keys, lo, hi) pickled on stdin, verifies that chain-key range and writes its ``PartResult``
pickled to stdout.

A fresh interpreter that imports only the verifier: multiprocessing's spawn would first import
the caller's main module in every worker (for ``jiefen``, the whole web application).
"""

from __future__ import annotations

import gc
import pickle
import sys

from workflows.audit.bulk_verify import verify_range_at


def main() -> None:
    url, keys, lo, hi = pickle.load(sys.stdin.buffer)   # noqa: S301 - the parent's pipe
    out, sys.stdout = sys.stdout.buffer, sys.stderr   # nothing else may write to the result pipe
    # the stream makes no reference cycles, but millions of rows would set off collection passes
    # over every position and fact kept so far (about 5 % of the CPU); this process is ours alone
    gc.disable()
    pickle.dump(verify_range_at(url, keys, lo, hi), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


if __name__ == "__main__":
    main()
