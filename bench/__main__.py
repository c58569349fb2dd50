"""``python -m bench``: the runtime benchmark, the national end-to-end benchmark, then the console's views.

``python -m bench runtime [args]``, ``python -m bench national [args]`` or ``python -m bench console
[fraction]`` (the console's views in a browser) runs one of them; ``python -m bench chaos [args]`` the
chaos run (``make chaos``).
"""

from __future__ import annotations

import sys

from bench.chaos import main as chaos_main
from bench.national.run import main as national_main
from bench.runtime import main as runtime_main


def main(argv: list[str]) -> int:
    if argv and argv[0] == "national":
        return national_main(argv[1:])
    if argv and argv[0] == "console":
        from bench.console import main as console_main

        return console_main(argv[1:])
    if argv and argv[0] == "chaos":
        return chaos_main(argv[1:])
    if argv and argv[0] == "runtime":
        return runtime_main(argv[1:])
    if argv:
        return runtime_main(argv)
    from bench.console import main as console_main

    return runtime_main([]) or national_main([]) or console_main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
