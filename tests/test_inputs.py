"""Every bad input of issue 9, reproduced through the real `netlab` process.

Each case failed before the fix (a traceback, a hang, a garbled or silent message, or bad input
taken for good); now each ends in exactly one line on stderr, `netlab: error: FILE: KEY:
PROBLEM`, with exit status 2 (3 for an environment problem) and no results folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.errors import ConfigError
from tests.conftest import NETLAB, ROOT

TINY = (ROOT / "topologies" / "tiny.toml").as_posix()
GOOD = f"""[scenario]
name = "inputs"
topology = "{TINY}"
start = 2022-02-01T08:00:00
duration = "30m"
sample_interval = "1m"

[purchase]
upstream_mbps = 20

[policy]
name = "htb-priority"
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_error_line(result: subprocess.CompletedProcess[str], status: int = 2) -> str:
    """The single stderr line of a failed command (asserting that it is one, and no more)."""
    assert result.returncode == status, (result.returncode, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("netlab: error: "), lines[0]
    return lines[0]


# (id, change to GOOD as (old, new), the words the one line must hold after the file name)
SCENARIO_CASES = [
    # item 5: a value with rich markup is shown, not interpreted (MarkupError before)
    ("markup in a value", (f'"{TINY}"', '"[/x]"'), ["scenario.topology", "[/x]", "not found"]),
    # item 6: tracebacks with exit 1
    ("tier share zero", ("[policy]", "[policy.tier_share]\noffice = 0\n[policy]"), []),
    (
        "tier share all zero",
        (
            'name = "htb-priority"',
            'name = "htb-priority"\n'
            "tier_share = {essential = 0, office = 0, subdistrict = 0, hotspot = 0}",
        ),
        ["policy.tier_share.essential", "greater than 0"],
    ),
    (
        "weight NaN",
        ('name = "htb-priority"', 'name = "htb-priority"\nweights = {office_a = nan}'),
        ["policy.weights.office_a", "finite"],
    ),
    (
        "weight inf",
        ('name = "htb-priority"', 'name = "htb-priority"\nweights = {office_a = inf}'),
        ["policy.weights.office_a", "finite"],
    ),
    ("demand a string", ("[scenario]", 'demand = "abc"\n[scenario]'), ["demand", "table"]),
    ("start in year 9999", ("2022-02-01T08:00:00", "9999-12-31T23:00:00"), ["scenario.start"]),
    ("sample interval 1e30", ('sample_interval = "1m"', "sample_interval = 1e30"), []),
    ("sample interval inf", ('sample_interval = "1m"', "sample_interval = inf"), ["finite"]),
    (
        "size sigma 1e30",
        ("[purchase]", "[demand.apps.web]\nsize_sigma = 1e30\n[purchase]"),
        ["demand.apps.web.size_sigma", "less than or equal to 10"],
    ),
    # item 7: NaN passed every bound
    ("duration NaN", ('duration = "30m"', "duration = nan"), ["scenario.duration", "finite"]),
    ("sample interval NaN", ('sample_interval = "1m"', "sample_interval = nan"), ["finite"]),
    (
        "tier share NaN",
        ('name = "htb-priority"', 'name = "htb-priority"\ntier_share = {office = nan}'),
        ["policy.tier_share.office", "finite"],
    ),
    (
        "optimize window NaN",
        ("[purchase]", "[optimize]\nwindow = nan\n[purchase]"),
        ["optimize.window", "finite"],
    ),
    # item 10: passed `check`, then `export` failed with a traceback
    (
        "purchase above 100 Gbit/s",
        ("upstream_mbps = 20", "upstream_mbps = 200000"),
        ["purchase.upstream_mbps", "100000"],
    ),
    # item 11: hangs
    ("sample interval 1ms", ('sample_interval = "1m"', 'sample_interval = "1ms"'), ["1s"]),
    # item 12: silent conversions and keyless messages
    ("start = 0", ("2022-02-01T08:00:00", "0"), ["scenario.start", "date-time"]),
    ("misspelt table", ("[scenario]", "[scenrio]"), ["scenrio", "did you mean 'scenario'"]),
    (
        "misspelt optional key",
        ('name = "htb-priority"', 'name = "htb-priority"\nguaranted_share = 0.8'),
        ["policy.guaranted_share", "did you mean 'guaranteed_share'"],
    ),
    (
        "misspelt key in a table of tables",
        ("[purchase]", "[demand.apps.web]\nsize_sigmaa = 1\n[purchase]"),
        ["demand.apps.web.size_sigmaa", "did you mean 'size_sigma'"],
    ),
    (
        "duplicate key",
        ("upstream_mbps = 20", "upstream_mbps = 20\nupstream_mbps = 30"),
        ["purchase.upstream_mbps", "given twice", "line 10"],
    ),
    (
        "missing topology",
        (f'"{TINY}"', '"nosuch.toml"'),
        ["scenario.topology", "nosuch.toml", "file not found"],
    ),
    # item 6: topology paths that raised OSError or ValueError
    ("topology path with NUL", (f'"{TINY}"', '"a\\u0000b"'), ["scenario.topology", "NUL"]),
    (
        "topology under a file",
        (f'"{TINY}"', f'"{(ROOT / "README.md").as_posix()}/tiny.toml"'),
        ["scenario.topology", "not a directory"],
    ),
    ("topology path 5000 long", (f'"{TINY}"', '"' + "a" * 5000 + '"'), ["scenario.topology"]),
]


@pytest.mark.parametrize(
    ("what", "change", "words"), SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES]
)
def test_bad_scenario_is_one_line(netlab, tmp_path, what, change, words) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    line = one_error_line(netlab("check", str(path)))
    assert f"netlab: error: {path}: " in line
    for word in words:
        assert word in line, line


def test_schedule_message_keeps_its_brackets(netlab, tmp_path) -> None:
    path = write(tmp_path, GOOD.replace('name = "htb-priority"', 'name = "schedule"'))
    line = one_error_line(netlab("check", str(path)))
    assert "needs [[policy.schedule]] entries and [policy.otherwise]" in line


def test_topology_values_are_checked_strictly(netlab, tmp_path) -> None:
    """item 12 and 11: `essential = 0` is no boolean; 10**9 users would never finish; item 5:
    the pattern of an id was garbled (`[a-z]` read as markup)."""
    for old, new, key in (
        ("latency_ms = 1\n", "latency_ms = 1\nessential = 0\n", "sites[0].essential"),
        ("users = 5", "users = 1000000000", "sites[0].users"),
        ('id = "office_a"', 'id = "Office A"', "sites[0].id: String should match pattern '^[a-z]"),
    ):
        topology = write(tmp_path, Path(TINY).read_text().replace(old, new, 1), "t.toml")
        scenario = write(tmp_path, GOOD.replace(TINY, topology.as_posix()))
        line = one_error_line(netlab("check", str(scenario)))
        assert f"{topology}: {key}" in line, line


@pytest.mark.parametrize(
    ("what", "raw", "words"),
    [
        ("UTF-16", "\ufeff[scenario]\n".encode("utf-16-le"), ["UTF-16", "UTF-8"]),
        ("Latin-1", b'[scenario]\nname = "\xe9"\n', ["not UTF-8"]),
    ],
)
def test_other_encodings_are_one_line(netlab, tmp_path, what, raw, words) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(raw)
    line = one_error_line(netlab("check", str(path)))
    assert all(word in line for word in [str(path), *words]), line


def test_a_fifo_as_topology_does_not_hang(netlab, tmp_path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    path = write(tmp_path, GOOD.replace(TINY, fifo.as_posix()))
    line = one_error_line(netlab("check", str(path)))  # the fixture times out at 300 s
    assert "scenario.topology" in line and "not a regular file" in line


def test_a_topology_given_as_the_scenario_says_so(netlab) -> None:
    line = one_error_line(netlab("check", TINY))
    assert "a topology file, not a scenario" in line


def test_a_quiet_run_prints_na_not_a_traceback(netlab, tmp_path) -> None:
    """item 1 and the missing-Jain crash: a run with no traffic has no busy hour, no Jain."""
    night = GOOD.replace("2022-02-01T08:00:00", "2022-02-06T03:00:00").replace('"30m"', '"1m"')
    result = netlab("run", str(write(tmp_path, night)), "-q", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "n/a" in rows["busy-hour satisfaction"]
    assert "n/a" in rows["Jain's index over sites"]


def test_too_long_duration_is_refused_before_running(netlab, tmp_path) -> None:
    """item 11: `--duration 99999999d` simulated for ever."""
    out = tmp_path / "r"
    result = netlab("run", str(write(tmp_path, GOOD)), "--duration", "99999999d", "--out", str(out))
    line = one_error_line(result)
    assert line.startswith("netlab: error: --duration 99999999d: ") and "366d" in line
    assert not out.exists()


SWEEP = """[sweep]
name = "inputs-sweep"
scenario = "s.toml"
{extra}
[sweep.set]
"scenario.duration" = "1m"

[sweep.grid]
{grid}
"""


def sweep_file(
    tmp_path: Path, grid: str = '"policy.name" = ["htb-equal"]', extra: str = ""
) -> Path:
    write(tmp_path, GOOD)
    return write(tmp_path, SWEEP.format(grid=grid, extra=extra), "sweep.toml")


def test_a_sweep_without_seeds_runs_seed_1(netlab, tmp_path) -> None:
    """item 2: seeds is optional (default 1); leaving it out crashed."""
    result = netlab("sweep", str(sweep_file(tmp_path)), "-q", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ran 1, already done 0, failed 0" in result.stdout


def test_sweep_check_prints_the_grid_and_runs_nothing(netlab, tmp_path) -> None:
    path = sweep_file(tmp_path, '"purchase.upstream_mbps" = [10, 20, 40]', "seeds = 4")
    out = tmp_path / "r"
    result = netlab("sweep", str(path), "--check", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "3 point(s) x 4 seed(s) = 12 run(s); nothing was run" in result.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    ("what", "grid", "extra", "words"),
    [
        ("a billion seeds", None, "seeds = 1000000000", ["sweep.seeds", "at most 1000"]),
        ("demand a string", '"demand" = ["abc"]', "", ["sweep.grid.demand", "table"]),
        (
            "grid key below a number",
            '"purchase.upstream_mbps.x" = [1]',
            "",
            ['sweep.grid."purchase.upstream_mbps.x"'],
        ),
        (
            "a grid too large",
            "\n".join(f'"policy.sites.office_a.prio" = [{i}]' for i in range(1))
            + '\n"purchase.upstream_mbps" = ['
            + ", ".join(str(i + 1) for i in range(1000))
            + "]",
            "seeds = 1000",
            ["sweep.grid", "at most 100,000"],
        ),
    ],
)
def test_bad_sweep_is_one_line(netlab, tmp_path, what, grid, extra, words) -> None:
    path = sweep_file(tmp_path, grid or '"policy.name" = ["htb-equal"]', extra)
    line = one_error_line(netlab("sweep", str(path), "--check"))
    assert f"{path}: " in line and all(word in line for word in words), line


def test_sweep_options_are_checked_before_anything_runs(netlab, tmp_path) -> None:
    """item 10: `--workers -1` raised ValueError; `compare --by nosuch` said nothing, exit 0."""
    path, out = sweep_file(tmp_path), tmp_path / "r"
    line = one_error_line(netlab("sweep", str(path), "--workers", "-1", "--out", str(out)))
    assert "--workers" in line
    line = one_error_line(netlab("compare", str(path), "--by", "nosuch", "--out", str(out)))
    assert "--by nosuch: not a grid key" in line and "policy.name" in line
    assert not out.exists()


def test_an_unreachable_dask_scheduler_is_an_environment_problem(netlab, tmp_path) -> None:
    """item 10: `--dask tcp://127.0.0.1:1` gave a traceback; it is exit 3 and one line."""
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    path = sweep_file(tmp_path)
    result = subprocess.run(
        [str(NETLAB), "sweep", str(path), "--dask", "tcp://127.0.0.1:1", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    line = one_error_line(result, status=3)
    assert "--dask tcp://127.0.0.1:1: cannot reach the Dask scheduler" in line


def test_export_to_a_directory_is_one_line(netlab, tmp_path) -> None:
    """item 10: `export -o DIR` raised IsADirectoryError."""
    line = one_error_line(netlab("export", str(write(tmp_path, GOOD)), "-o", str(tmp_path)))
    assert "--output" in line and "is a directory" in line


def test_plan_id_with_a_newline_is_refused(netlab, tmp_path) -> None:
    """item 8: `re` with `$` let "root\\n" through, and the newline broke the tc script."""
    plan = json.loads((ROOT / "tests" / "data" / "fuzz-plan.json").read_text())
    plan["down"][1]["id"] += "\n"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    line = one_error_line(netlab("export", str(path), "--format", "tc"))
    assert f"{path}: down[1].id: " in line and "\\n" in line


def test_exported_scripts_parse(netlab, tmp_path) -> None:
    """Every tc script netlab writes passes `sh -n` (the fuzz test checks mutated plans)."""
    for source in (ROOT / "scenarios" / "example-small.toml", ROOT / "tests/data/fuzz-plan.json"):
        result = netlab("export", str(source), "--format", "tc")
        assert result.returncode == 0, result.stderr
        check = subprocess.run(["sh", "-n"], input=result.stdout, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_optimize_help_keeps_its_table_names(netlab) -> None:
    """item 5: rich markup ate `[optimize]` from the help."""
    result = netlab("optimize", "--help", env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    assert "[optimize]" in result.stdout


# Issue 20, item 4: a bad option value names the option (not the file) and the value meant;
# a file of another kind is named as what it is, with what to give instead.

SMALL = (ROOT / "scenarios" / "small-workday.toml").as_posix()
SCHEDULED = (ROOT / "scenarios" / "example-small.toml").as_posix()
SWEEP_FILE = (ROOT / "scenarios" / "sweeps" / "tiny-policies.toml").as_posix()


def option_error(result: subprocess.CompletedProcess[str], option: str, out: Path) -> str:
    """The one line of a refused option: it starts with the option, and nothing was written."""
    line = one_error_line(result)
    assert line.startswith(f"netlab: error: {option}"), line
    assert not out.exists()
    return line


@pytest.mark.parametrize(
    ("args", "option", "meant"),
    [
        (["run", "S", "--policy", "htb-wieghted"], "--policy htb-wieghted", "htb-weighted"),
        (["check", "S", "--policy", "maxmin"], "--policy maxmin", "max-min"),
        (["export", "S", "--format", "mikrotk"], "--format mikrotk", "mikrotik"),
        (["export", "S", "--at", "Tux 09:00"], "--at tux", "tue"),
        (["import-counters", "S", "-f", "mrgt", "--scenario", "S", "-o", "OUT"],
         "--format", "mrtg"),
        (["import-counters", "S", "-f", "csv", "--tz", "WIBB", "--scenario", "S", "-o", "OUT"],
         "--tz", "WIB"),
        (["whatif", SMALL, "--connect", "kec_seranu=vsat", "-o", "OUT"],
         "--connect", "kec_seranau"),
        (["whatif", SMALL, "--connect", "kec_seranau=vsatt", "-o", "OUT"], "--connect", "vsat"),
    ],
    ids=["run --policy", "check --policy", "--format", "--at", "counters --format", "--tz",
         "--connect site", "--connect option"],
)  # fmt: skip
def test_a_misspelt_option_value_names_the_option_and_the_value_meant(
    netlab, tmp_path, args, option, meant
) -> None:
    scenario, out = write(tmp_path, GOOD), tmp_path / "r"
    args = [{"S": str(scenario), "OUT": str(out)}.get(a, a) for a in args]
    line = option_error(netlab(*args), option, out)
    assert f"did you mean {meant}?" in line and str(scenario) not in line, line


def test_policy_lists_what_it_accepts_and_refuses_schedule_by_name(netlab, tmp_path) -> None:
    """The list of a refused --policy is the registry of static policies, the one --help shows;
    `schedule` is refused as such, since only a file can give its periods."""
    from sim.shaping.policies import POLICIES

    out = tmp_path / "r"
    line = option_error(
        netlab("run", SCHEDULED, "--policy", "htb-wieghted", "-o", str(out)), "--policy", out
    )
    assert line.endswith(f"(one of: {', '.join(POLICIES)})") and "schedule" not in line, line
    line = option_error(
        netlab("run", str(write(tmp_path, GOOD)), "-p", "schedule"), "--policy", out
    )
    assert "--policy schedule: a schedule is written in the scenario file" in line
    assert "leave out --policy" not in line
    line = option_error(netlab("check", SCHEDULED, "-p", "schedule"), "--policy schedule", out)
    assert "it is this scenario's policy: leave out --policy" in line


@pytest.mark.parametrize(
    ("args", "start", "words"),
    [
        (["run", "S", "--duration", "10days", "-o", "OUT"], "--duration: ", ["'10days'", "10d"]),
        (["run", "S", "--seed", "-1", "-o", "OUT"], "--seed -1: ", ["greater than or equal to 0"]),
        (["run", "S", "--duration", "10s", "-o", "OUT"], "--duration 10s: ",
         ["S: scenario.sample_interval", "1m must lie between 1s and the duration (10s)"]),
        (["gate", "S", "S", "--window", "9:00", "-o", "OUT"], "--window: ", ["'9:00'"]),
    ],
    ids=["--duration", "--seed", "--duration against the file's sample_interval", "--window"],
)  # fmt: skip
def test_a_bad_option_format_names_the_option(netlab, tmp_path, args, start, words) -> None:
    """A value that is not a duration, seed or window is the option's fault, not the file's; a
    value that only clashes with a key of the file names both."""
    scenario, out = write(tmp_path, GOOD), tmp_path / "r"
    args = [{"S": str(scenario), "OUT": str(out)}.get(a, a) for a in args]
    line = option_error(netlab(*args), start, out)
    assert all(word.replace("S: ", f"{scenario}: ") in line for word in words), line
    assert (f"{scenario}:" in line) == any(word.startswith("S: ") for word in words), line


def test_a_misspelt_by_key_suggests_the_grid_key(netlab, tmp_path) -> None:
    out = tmp_path / "r"
    result = netlab("compare", str(sweep_file(tmp_path)), "--by", "policy.nme", "-o", str(out))
    line = option_error(result, "--by policy.nme: not a grid key", out)
    assert "did you mean policy.name?" in line


@pytest.fixture(scope="module")
def run_folders(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(scenario, the folder of a 25-hour `netlab run` with its acceptance.json, a copy of it
    that also holds a recommendation.json with the scenario's plan, as `optimize` leaves)."""
    root = tmp_path_factory.mktemp("runs")
    scenario = write(root, GOOD)
    ran = subprocess.run(
        [str(NETLAB), "run", str(scenario), "--duration", "25h", "-q", "-o", str(root / "r")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    (plain,) = (root / "r").iterdir()
    plan = subprocess.run(
        [str(NETLAB), "export", str(scenario), "-f", "json"], capture_output=True, text=True
    )
    optimized = root / "optimized"
    shutil.copytree(plain, optimized)
    answer = {"feasible": True, "policy": "htb-priority", "mbps": 20.0, "split": []}
    (optimized / "recommendation.json").write_text(
        json.dumps(answer | {"plan": json.loads(plan.stdout)})
    )
    return scenario, plain, optimized


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["compare", "S"], ["S: a scenario, not a sweep file", "netlab compare take a sweep file"]),
        (["sweep", "S", "--check"], ["S: a scenario, not a sweep file", "netlab sweep"]),
        (["run", SWEEP_FILE], ["a sweep file, not a scenario", "netlab sweep or netlab compare"]),
        (["run", "RUN"], ["RUN: a run folder, not a scenario", "the run's scenario is S"]),
        (["run", "RUN/summary.json"], ["RUN/summary.json: a run summary", "not a scenario"]),
        (["export", "RUN/summary.json"],
         ["RUN/summary.json: a run summary", "no recommendation.json", "give its scenario, S"]),
        (["export", "OPT/summary.json"],
         ["OPT/summary.json: a run summary", "give OPT/recommendation.json"]),
        (["export", "RUN/acceptance.json"], ["RUN/acceptance.json: an acceptance trial"]),
        (["export", "RUN/manifest.json"], ["RUN/manifest.json: a run manifest"]),
        (["export", "RUN"], ["RUN: a run folder, not a shaping plan", "give its scenario, S"]),
        (["gate", "S", "OPT/summary.json"],
         ["OPT/summary.json: a run summary", "not a shaping plan"]),
        (["export", "OPT/recommendation.json", "--topology", "S"],
         ["S: a scenario, not a topology file"]),
    ],
    ids=["compare", "sweep --check", "run a sweep", "run a run folder", "run a summary",
         "export a summary", "export a summary beside a recommendation", "export acceptance.json",
         "export manifest.json", "export a run folder without recommendation", "gate a summary",
         "--topology a scenario"],
)  # fmt: skip
def test_a_file_of_another_kind_is_named_as_what_it_is(netlab, run_folders, args, words) -> None:
    scenario, plain, optimized = run_folders
    names = {"S": str(scenario), "RUN": str(plain), "OPT": str(optimized)}

    def named(text: str) -> str:
        for short, path in names.items():
            text = re.sub(rf"\b{short}\b", path, text)
        return text

    line = one_error_line(netlab(*[named(a) for a in args]))
    assert all(named(word) in line for word in words), line
    assert "unknown key" not in line and "expected a TOML" not in line


def test_export_of_a_run_folder_exports_its_recommendation(netlab, run_folders) -> None:
    _, plain, optimized = run_folders
    from_folder = netlab("export", str(optimized), "-f", "tc")
    assert from_folder.returncode == 0, from_folder.stderr
    assert f"exporting {optimized / 'recommendation.json'}" in from_folder.stderr
    from_file = netlab("export", str(optimized / "recommendation.json"), "-f", "tc")
    assert from_folder.stdout == from_file.stdout and "tc qdisc" in from_file.stdout


def test_every_kind_netlab_writes_or_reads_is_told_apart(run_folders) -> None:
    """The sniffer on the project's own files and on a real run folder, file by file."""
    from sim.model.filekind import kind_of

    _, plain, optimized = run_folders
    expected = {
        **{p: "scenario" for p in (ROOT / "scenarios").glob("*.toml")},
        **{p: "sweep" for p in (ROOT / "scenarios" / "sweeps").glob("*.toml")},
        **{p: "topology" for p in (ROOT / "topologies").glob("*.toml")},
        ROOT / "tests" / "data" / "fuzz-plan.json": "plan",
        plain: "run",
        plain / "summary.json": "summary",
        plain / "acceptance.json": "acceptance",
        plain / "manifest.json": "manifest",
        optimized / "recommendation.json": "recommendation",
        plain / "flows.parquet": None,
        plain.parent: None,
    }
    assert {path: kind_of(path) for path in expected} == expected


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.dictionaries(st.text(max_size=8), st.integers())))
def test_sniffing_never_fails_and_names_only_known_kinds(content) -> None:
    """Every loader sniffs before reading, so the sniffer must take any file quietly: a kind it
    knows, or None for the loader to explain."""
    from sim.model.filekind import KINDS, expect_kind, kind_of

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.json"
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        found = kind_of(path)
        assert found is None or found in KINDS
        try:
            expect_kind(path, "scenario")
        except ConfigError as exc:
            assert found not in (None, "scenario") and KINDS[found][0] in str(exc)
