"""The child process of an import's summaries (``services.summary.summarise_ahead``):
reads one pickled task from standard input, writes its summaries, pickled, to
standard output.

A module run with ``python -m`` rather than ``multiprocessing``: spawn would run the
caller's ``__main__`` again in the child, and fork is unsafe in a server with threads.
The pipe carries only what the parent itself computed moments ago.
"""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    from valuechain.services.summary import summaries_of

    task = pickle.load(sys.stdin.buffer)
    result = summaries_of(*task)
    pickle.dump(result, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
