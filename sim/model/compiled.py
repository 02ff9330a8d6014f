"""The engine's compiled copies: which modules they are, refused unless built from the source
beside them, and skipped when NETLAB_PURE=1 asks for the sources.

`make core` (tools/build_core.py) compiles COMPILED_MODULES with mypyc into extension modules
beside their sources, which Python imports instead of the sources (docs/architecture.md, "The
compiled core"), and records the sha256 of each source it compiled in `<extension>.sha256`. A
copy built from other source would silently run code that is no longer there, so each of those
modules calls `refuse_stale(__file__)` first: a no-op when it runs as Python, an ImportError
naming the fix when its source is not the one recorded. Contents, not modification times: a
checkout that only touches a file is no change, and a copy with old times can still be one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

COMPILED_MODULES = (
    "sim.backends.fluid",
    "sim.backends.fluid_deadlines",
    "sim.backends.fluid_leaf",
    "sim.shaping.htb",
)
EXTENSION_SUFFIXES = (".so", ".pyd")
PURE_VARIABLE = "NETLAB_PURE"  # set to 1: import COMPILED_MODULES from their sources


class StaleCompiledCopy(ImportError):
    """A compiled module was built from other source than the one beside it (the CLI says so
    in one line)."""


def source_digest(source: str) -> str:
    """The sha256 of a source file's bytes, as `make core` records it."""
    with open(source, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def digest_record(extension: str) -> str:
    """The file in which `make core` records the digest of the source `extension` came from."""
    return extension + ".sha256"


def refuse_stale(module_file: str) -> None:
    """Raise ImportError if `module_file` is a compiled copy not built from its .py source (or
    with no record of the source it was built from)."""
    if not module_file.endswith(EXTENSION_SUFFIXES):
        return
    folder, name = os.path.split(module_file)
    source = os.path.join(folder, name.split(".", 1)[0] + ".py")
    if not os.path.exists(source):
        return
    try:
        with open(digest_record(module_file), encoding="ascii") as file:
            recorded = file.read().strip()
    except FileNotFoundError:
        recorded = ""
    if recorded != source_digest(source):
        raise StaleCompiledCopy(
            f"{source} changed after it was compiled: run `make core` to compile it again, "
            f"or set {PURE_VARIABLE}=1 to run it as Python"
        )


class _SourceFinder(MetaPathFinder):
    """Finds COMPILED_MODULES as their .py sources, ahead of the finder that would prefer
    their extensions."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in COMPILED_MODULES or path is None:
            return None
        name = fullname.rpartition(".")[2] + ".py"
        for folder in path:
            source = os.path.join(folder, name)
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def run_sources_if_asked() -> None:
    """With NETLAB_PURE=1 in the environment, import the engine from its sources even where
    it is compiled (called when `sim` is imported, before any engine module is)."""
    if os.environ.get(PURE_VARIABLE, "") in ("", "0"):
        return
    if not any(isinstance(finder, _SourceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())
