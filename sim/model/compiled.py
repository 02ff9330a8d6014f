"""The engine's compiled copies: refused once their source has changed.

`make core` compiles sim/backends/fluid.py and sim/shaping/htb.py with mypyc into extension
modules beside them, which Python imports instead of the sources (README, "Performance"). A
copy older than its source would silently run code that is no longer there, so each of those
modules calls `refuse_stale(__file__)` first: a no-op when it runs as Python, an ImportError
naming the fix when its compiled copy is out of date.
"""

from __future__ import annotations

import os

EXTENSION_SUFFIXES = (".so", ".pyd")


class StaleCompiledCopy(ImportError):
    """A compiled module is older than its source (the CLI says so in one line)."""


def refuse_stale(module_file: str) -> None:
    """Raise ImportError if `module_file` is a compiled copy older than its .py source."""
    if not module_file.endswith(EXTENSION_SUFFIXES):
        return
    folder, name = os.path.split(module_file)
    source = os.path.join(folder, name.split(".", 1)[0] + ".py")
    if os.path.exists(source) and os.path.getmtime(source) > os.path.getmtime(module_file):
        raise StaleCompiledCopy(
            f"{source} changed after it was compiled: run `make core` to compile it again, "
            f"or delete {module_file} to run it as Python"
        )
