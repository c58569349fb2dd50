"""``python -m siaga_logistics``: the service, or one of its tools (see ``cli``)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
