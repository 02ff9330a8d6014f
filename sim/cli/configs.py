"""`netlab import-config`: the shaping a router already applies (RouterOS, Linux tc, LibreQoS)
written as a topology, a plan file and a scenario whose policy is that plan (`deployed`)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import fail, say, warn
from sim.cli.options import app
from sim.configs.importer import FORMATS, Imported, import_config
from sim.configs.written import SCENARIO, import_files, purchase_mbps
from sim.model.units import MAX_MBPS

# The run folder writer and the scenario loader are imported where used: the first brings in
# NumPy and SimPy, which `netlab --help` does not need.

NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@app.command("import-config")
def import_config_command(
    files: Annotated[
        list[Path], typer.Argument(help="Configuration files of one format.", show_default=False)
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"{', '.join(FORMATS)}.")],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="New folder for the topology, plan and scenario.")
    ],
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="NAME=VALUE: a shell variable a tc script's rates use (repeatable)."
        ),
    ] = None,
    uplink: Annotated[
        float | None,
        typer.Option(
            "--uplink", min=0.001, max=MAX_MBPS, help="Mbit/s bought, when no queue holds it."
        ),
    ] = None,
    kinds: Annotated[
        Path | None,
        typer.Option("--kinds", help='TOML file of patterns to site kinds: "kec_*" = "hotspot".'),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Topology and scenario name (default: the first file's)."),
    ] = None,
) -> None:
    """Import the shaping in force as a topology, a plan and a scenario (policy deployed).

    Writes OUT/topology.toml (each site marked imported, each figure the files do not give
    commented as assumed), OUT/plan.json and OUT/scenario.toml, whole or not at all, and
    prints the import's warnings (also written into the scenario). Nothing in the files is
    ever executed. Site kinds are office unless --kinds maps names to kinds.

    [bold]Example[/bold]

      netlab import-config examples/imported/regency-office.rsc -f routeros
        --out results/imported --kinds examples/imported/kinds.toml
      netlab run results/imported/scenario.toml
    """
    if fmt not in FORMATS:
        fail(f"--format: unknown format {fmt!r} (use {', '.join(FORMATS)})", 2)
    variables = _variables(values or [])
    label = _name(name, files[0])
    imported = _imported(files, fmt, variables, uplink, kinds)
    source = "netlab import-config " + shlex.join([*map(str, files), "-f", fmt])
    texts = import_files(imported, label, f"`{source}`")
    folder = _write(out_dir, texts)
    for line in imported.warnings:
        warn(line)
    say(f"imported {len(imported.sites)} sites, purchase {purchase_mbps(imported):g} Mbit/s")
    say(f"scenario: {folder / SCENARIO}")


def _imported(
    files: list[Path],
    fmt: str,
    variables: dict[str, str],
    uplink: float | None,
    kinds: Path | None,
) -> Imported:
    """The import, with the kinds file's kinds; bad input raises ConfigError (status 2)."""
    from sim.configs.kinds import read_kinds, with_kinds

    mapping = read_kinds(kinds) if kinds is not None else None
    imported = import_config(files, fmt, variables, uplink)
    if mapping is None:
        return imported
    sites, unused = with_kinds(imported.sites, mapping)
    return replace(imported, sites=sites, warnings=[*imported.warnings, *unused])


def _write(out_dir: Path, texts: dict[str, str]) -> Path:
    """The folder written whole, after its scenario loaded back with its plan."""
    from sim.model.scenario import load_scenario
    from sim.results import write_folder
    from sim.shaping.schedule import compile_schedule

    def loads(folder: Path) -> None:
        compile_schedule(load_scenario(folder / SCENARIO))

    return write_folder(out_dir, texts, loads)


def _variables(values: list[str]) -> dict[str, str]:
    """--set NAME=VALUE options as a dict; a bad one exits with status 2."""
    out: dict[str, str] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not VARIABLE.match(key):
            fail(f"--set {text!r}: use NAME=VALUE with a shell variable's name", 2)
        out[key] = value
    return out


def _name(given: str | None, first: Path) -> str:
    """--name, checked, or the first file's name made an identifier."""
    from sim.configs.ids import unique_ids

    if given is None:
        return unique_ids([first.stem], 16)[first.stem]
    if not NAME.match(given):
        fail(f"--name {given!r}: a lower-case letter, then letters, digits or _ (16 at most)", 2)
    return given
