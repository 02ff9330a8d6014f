"""Compile netlab's engine with mypyc, in place: `make core` (README, "Performance").

The fluid backend and the HTB allocator are where a run spends its time, in a Python call
chain per flow event. mypyc compiles these type-annotated modules, unchanged, into C
extensions that Python imports instead of the sources; everything else stays interpreted.
Without them (`make pure` deletes them), the same sources run as Python, slower.
Each module becomes its own extension (`separate`): a shared library of them all would be a
top-level module that the editable install does not put on the path.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from mypyc.build import mypycify
from setuptools import setup

ROOT = Path(__file__).resolve().parent.parent
CORE = ["sim/backends/fluid.py", "sim/shaping/htb.py"]


def main() -> None:
    sys.path.insert(0, str(ROOT))  # mypy must find `sim` (it type-checks while compiling)
    # setuptools reads the project's pyproject.toml too, and warns about its own config there
    warnings.filterwarnings("ignore", message=r"Support for `\[tool.setuptools\]`")
    setup(
        name="netlab-core",
        ext_modules=mypycify(CORE, separate=True, opt_level="3"),
        # --force: mypyc leaves C it regenerates unchanged untouched, and a copy not relinked
        # would stay older than its source (sim/model/compiled.py refuses it)
        script_args=["-q", "build_ext", "--inplace", "--force", "--build-temp", "build/core"],
    )


if __name__ == "__main__":
    main()
