"""Compile netlab's engine with mypyc, in place: `make core` (README, "Performance").

The fluid backend and the HTB allocator are where a run spends its time, in a Python call
chain per flow event. mypyc compiles these type-annotated modules, unchanged, into C
extensions that Python imports instead of the sources; everything else stays interpreted.
Without them (`make pure` deletes them, NETLAB_PURE=1 skips them), the same sources run as
Python, slower. Each module becomes its own extension (`separate`): a shared library of them all
would be a top-level module that the editable install does not put on the path. Beside each
extension goes the sha256 of the source it was compiled from, which sim/model/compiled.py checks
at import.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import warnings
from pathlib import Path

from mypyc.build import mypycify
from setuptools import setup

ROOT = Path(__file__).resolve().parent.parent
CACHE = "build/core/mypy-cache"  # mypy's cache for this build alone, emptied each time (below)
sys.path.insert(0, str(ROOT))  # mypy must find `sim` (it type-checks while compiling)

from sim.model.compiled import COMPILED_MODULES, digest_record, source_digest  # noqa: E402


def main() -> None:
    # a cold build every time: separately compiled modules are read back from this cache when
    # unchanged, and mypyc 2.4 then fails ("value is not in list") on a changed module that sets
    # the attributes of a cached module's class, as fluid.py sets fluid_leaf.py's
    shutil.rmtree(CACHE, ignore_errors=True)
    sources = [module.replace(".", "/") + ".py" for module in COMPILED_MODULES]
    digests = {source: source_digest(str(ROOT / source)) for source in sources}  # as compiled
    # setuptools reads the project's pyproject.toml too, and warns about its own config there
    warnings.filterwarnings("ignore", message=r"Support for `\[tool.setuptools\]`")
    setup(
        name="netlab-core",
        ext_modules=mypycify(sources + [f"--cache-dir={CACHE}"], separate=True, opt_level="3"),
        # --force: every extension relinked, so each record below is what it was built from
        script_args=["-q", "build_ext", "--inplace", "--force", "--build-temp", "build/core"],
    )
    for source, digest in digests.items():
        extension = str(ROOT / source).removesuffix(".py") + sysconfig.get_config_var("EXT_SUFFIX")
        Path(digest_record(extension)).write_text(digest + "\n", encoding="ascii")


if __name__ == "__main__":
    main()
