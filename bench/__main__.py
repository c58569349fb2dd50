"""``python -m bench``: the runtime benchmark (see ``bench/runtime_bench.py``)."""

from __future__ import annotations

import sys

from bench.runtime_bench import main

if __name__ == "__main__":
    sys.exit(main())
