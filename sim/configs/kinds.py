"""Site kinds for imported sites, from the user's own mapping of name patterns to kinds.

A configuration says nothing of who uses a site, so an imported site is an office (assumed)
unless the user gives a kinds file: a TOML table of shell-style patterns (`*`, `?`, `[...]`,
matched without regard to case against the site's name and its id) to kinds, e.g.
`"kec_*" = "subdistrict"`. The first pattern in file order that matches wins. Kinds are never
guessed from names otherwise.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from pathlib import Path

from sim.configs.to_sites import ImportedSite
from sim.model.errors import ConfigError
from sim.model.loading import read_toml
from sim.model.topology import SITE_KINDS

MAX_PATTERNS = 1000


@dataclass(frozen=True)
class KindMap:
    """Patterns to kinds, in file order, and the file they came from."""

    path: Path
    patterns: tuple[tuple[str, str], ...]

    def kind_of(self, name: str, site_id: str) -> tuple[str, str] | None:
        """(kind, pattern) of the first pattern matching the name or the id, else None."""
        for pattern, kind in self.patterns:
            lowered = pattern.lower()
            if fnmatch.fnmatchcase(name.lower(), lowered) or fnmatch.fnmatchcase(site_id, lowered):
                return kind, pattern
        return None


def read_kinds(path: Path) -> KindMap:
    """The mapping file (see the module doc); a bad one raises ConfigError naming the key."""
    data = read_toml(path)
    if not data:
        raise ConfigError(path, "", 'no patterns: write lines like "kec_*" = "subdistrict"')
    if len(data) > MAX_PATTERNS:
        raise ConfigError(path, "", f"more than {MAX_PATTERNS} patterns")
    patterns = []
    for pattern, kind in data.items():
        if not isinstance(kind, str) or kind not in SITE_KINDS:
            raise ConfigError(
                path, pattern, f"{kind!r} is not a site kind (kinds: {', '.join(SITE_KINDS)})"
            )
        patterns.append((pattern, kind))
    return KindMap(path, tuple(patterns))


def with_kinds(sites: list[ImportedSite], kinds: KindMap) -> tuple[list[ImportedSite], list[str]]:
    """The sites with the kinds the mapping gives (each recorded as given, no longer assumed),
    and a warning for each pattern that matched no site."""
    used: set[str] = set()
    out = []
    for imported in sites:
        site = imported.site
        found = kinds.kind_of(site.name, site.id)
        if found is None:
            out.append(imported)
            continue
        kind, pattern = found
        used.add(pattern)
        assumptions = {k: v for k, v in imported.assumptions.items() if k != "kind"}
        note = site.note.replace("assumed: kind, ", "assumed: ")
        out.append(
            replace(
                imported,
                site=site.model_copy(update={"kind": kind, "note": note}),
                assumptions=assumptions,
            )
        )
    unused = [p for p, _ in kinds.patterns if p not in used]
    warnings = [f"{kinds.path}: {p!r} matches no imported site" for p in unused]
    return out, warnings
