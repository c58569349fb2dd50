"""``python -m bench.runtime``: the runtime benchmark (and its workers)."""

import sys

from .cli import main

sys.exit(main())
