"""Make the SYNTHETIC counters of scenarios/measured/kotim-synthetic/ (no regency data is public).

The known scenario (known.toml) is kotim-deployed.toml with a demand the script draws: each
site's session rate scaled by a factor between 0.5 and 1.3 and a third of the offices starting
their day an hour later. Its expected load becomes 5-minute interface counters (32-bit on the
sites' ports, 64-bit on the upstream) with noise, the park's hotspot flat at its 10 Mbit/s cap,
a counter reset, a gap, a duplicated row and rows out of order: counters.csv.gz, in netlab's
generic CSV format, mapped to sites by interfaces.toml; and the upstream's counters alone
(upstream-only.csv.gz, mapped by upstream.toml), as a provider's graph has them. Run from the
repository's root:

    .venv/bin/python scenarios/measured/make_synthetic.py [OUT_DIR] [-q]

The counters (2.6 MB) are not kept in git: this makes them, byte for byte the same every
time, in OUT_DIR (default kotim-synthetic/), in 2 s, with a progress bar over its stages on a
terminal (none with -q).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
from pathlib import Path

import numpy as np

from sim.cli.console import progress_steps
from sim.model.scenario import Scenario, load_scenario
from sim.studies.calibrated_file import calibrated_text
from sim.studies.synthetic import Synthetic, counter_csv

HERE = Path(__file__).parent
OUT = HERE / "kotim-synthetic"
DAYS = [dt.date(2023, 1, 17) + dt.timedelta(days=n) for n in range(14)]  # Tue 17 - Mon 30 Jan
KNOWN = """# SYNTHETIC: the known scenario the example's counters were made from by
# make_synthetic.py (kotim-deployed.toml with a drawn demand, below the marker). Calibrating
# kotim-deployed.toml from those counters should give this demand back.
"""
TRUTH = "# --- the KNOWN demand the synthetic counters were made from (make_synthetic.py) ---"


def known(deployed: Scenario, seed: int = 7) -> Scenario:
    """The deployed scenario with a drawn 'true' demand per site."""
    rng = np.random.default_rng(seed)
    sites = {}
    office = deployed.spec.demand.kinds["office"].weekday
    for site in deployed.sites:
        entry: dict[str, object] = {"scale": round(float(rng.uniform(0.5, 1.3)), 3)}
        if site.kind == "office" and rng.random() < 1 / 3:
            entry["weekday"] = [office[0], *office[:-1]]  # the day starts an hour later
        sites[site.id] = entry
    data = deployed.spec.model_dump()
    data["calibration"] = {"source": "drawn by make_synthetic.py", "sites": sites}
    return deployed.edited(data)


def interfaces(scenario: Scenario) -> dict[str, str]:
    """Site -> the hub's port towards it (ether2...), the upstream on sfp1."""
    out = {site.id: f"ether{i + 2}" for i, site in enumerate(scenario.sites)}
    out[scenario.topology.hub.id] = "sfp1"
    return out


def main(out: Path = OUT, quiet: bool = False) -> None:
    with progress_steps(quiet, "synthetic counters", 5) as step:
        step("drawing the known demand")
        deployed = load_scenario(HERE / "kotim-deployed.toml")
        truth = known(deployed)
        out.mkdir(exist_ok=True)
        text = calibrated_text(
            HERE / "kotim-deployed.toml", truth, out / "known.toml", TRUTH, "known"
        )
        (out / "known.toml").write_text(KNOWN + text, encoding="utf-8")
        names = interfaces(deployed)
        step(f"counters of {len(names)} interfaces over {len(DAYS)} days")
        csv = counter_csv(truth, Synthetic(DAYS), names)
        step("compressing counters.csv.gz")
        packed = gzip.compress(csv.encode(), mtime=0)
        step("writing")
        (out / "counters.csv.gz").write_bytes(packed)
        step("the upstream's counters alone")
        # the provider's graph alone: the upstream's counters, nothing per site
        upstream = counter_csv(
            truth, Synthetic(DAYS, flaws=False), {deployed.topology.hub.id: names["hub"]}
        )
        (out / "upstream-only.csv.gz").write_bytes(gzip.compress(upstream.encode(), mtime=0))
        (out / "upstream.toml").write_text(
            f'# SYNTHETIC example: the upstream\'s port alone.\n{names["hub"]} = "hub"\n'
        )
    mapping = [f'{name} = "{site}"' for site, name in names.items()]
    (out / "interfaces.toml").write_text(
        "# SYNTHETIC example: the hub's ports and the sites behind them.\n"
        + "\n".join(mapping)
        + "\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Make the synthetic counters example.")
    parser.add_argument("out", nargs="?", type=Path, default=OUT, help="folder to write")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    arguments = parser.parse_args()
    main(arguments.out, arguments.quiet)
