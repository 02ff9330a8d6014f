"""What `netlab gate` hands to CI: JUnit XML (one test case per site, tier and objective, failed
when it regressed), a Markdown summary (GitHub's job summary, GitLab's merge request note) and
the figures for the results history.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from sim.analysis.compare import ci_text
from sim.report.history import Figure, append, trend_page
from sim.studies.gate import GateResult, Row


def headline(result: GateResult) -> str:
    """One line: the verdict and what regressed."""
    failed = result.failed
    if not failed:
        return f"gate passed: no site or tier regresses beyond {result.tolerance:g}"
    subjects = sorted({row.subject for row in failed})
    named = [f"{s} ({result.names[s]})" if s in result.names else s for s in subjects]
    return f"gate FAILED, regressed beyond {result.tolerance:g}: {', '.join(named)}"


def difference_text(row: Row) -> str:
    """'-0.227 ± 0.078', or what stands in for it."""
    if row.diff is None:
        return "-"
    if row.ci is None:
        return f"{row.diff:+.3f}"
    mean, spread = ci_text(row.diff, row.ci)
    return f"{'+' if row.diff > 0 else ''}{mean} ± {spread}"


def shown(result: GateResult) -> list[Row]:
    """The short table's rows: the regency and the tiers, and the sites that changed beyond
    the tolerance, came or went."""
    quiet = ("pass", "too few")
    return [row for row in result.rows if row.scope != "site" or row.verdict not in quiet]


def table_text(result: GateResult) -> str:
    """The short table the command prints: the regency, the tiers and the sites not passing."""
    header = f"{'scope':<8}{'subject':<16}{'objective':<30}{'base':>7}{'cand':>7}  difference"
    lines = [header]
    for row in shown(result):
        lines.append(
            f"{row.scope:<8}{row.subject:<16}{row.objective:<30}{_value(row.baseline):>7}"
            f"{_value(row.candidate):>7}  {difference_text(row):<18} {row.verdict}"
        )
    return "\n".join(lines)


def write_junit(result: GateResult, path: Path) -> Path:
    """One <testcase> per figure, classname gate.SCOPE.SUBJECT, name the objective; a
    regression is a <failure> saying by how much, a figure without data is <skipped>."""
    counts = {
        "tests": str(len(result.rows)),
        "failures": str(len(result.failed)),
        "skipped": str(sum(row.verdict == "too few" for row in result.rows)),
    }
    root = ET.Element("testsuites", {"name": "netlab gate", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": f"netlab gate {result.candidate}", **counts})
    for row in result.rows:
        case = ET.SubElement(
            suite, "testcase", classname=f"gate.{row.scope}.{row.subject}", name=row.objective
        )
        if row.failed:
            message = _sentence(row, result)
            ET.SubElement(case, "failure", message=message, type=row.verdict).text = message
        elif row.verdict == "too few":
            ET.SubElement(case, "skipped", message="a figure on fewer than 2 paired seeds")
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="unicode", xml_declaration=True)
    return path


def write_markdown(result: GateResult, path: Path) -> Path:
    """The summary a CI system shows: the verdict, what was compared, the short table."""
    lines = [
        f"### netlab gate: {headline(result)}",
        "",
        f"Baseline `{result.baseline}` against candidate `{result.candidate}`, window "
        f"{result.window}, seeds {', '.join(map(str, result.seeds))}; a figure regresses "
        f"when its whole 95 % interval lies below -{result.tolerance:g}.",
        "",
        "| scope | subject | objective | baseline | candidate | difference (95 % CI) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in shown(result):
        verdict = f"**{row.verdict}**" if row.failed else row.verdict
        lines.append(
            f"| {row.scope} | {row.subject} | {row.objective.replace('_', ' ')} | "
            f"{_value(row.baseline)} | {_value(row.candidate)} | {difference_text(row)} | "
            f"{verdict} |"
        )
    unlisted = len(result.rows) - len(shown(result))
    lines += ["", f"{unlisted} more site figures pass or have too few paired seeds to judge."]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def publish(result: GateResult, out_dir: Path, history: Path) -> list[Path]:
    """Write junit.xml and summary.md into out_dir, append to the history and redraw its
    trend (history-gate.html beside it); return the files written."""
    label = f"{result.baseline} -> {result.candidate}"
    append(history, "gate", label, history_figures(result))
    return [
        write_junit(result, out_dir / "junit.xml"),
        write_markdown(result, out_dir / "summary.md"),
        trend_page(history, "gate", history.with_name("history-gate.html"), "netlab gate trend"),
    ]


def history_figures(result: GateResult) -> list[Figure]:
    """Every row as a history figure named SCOPE/SUBJECT/OBJECTIVE."""
    return [
        Figure(
            f"{row.scope}/{row.subject}/{row.objective}", row.candidate, row.baseline, row.verdict
        )
        for row in result.rows
    ]


def _sentence(row: Row, result: GateResult) -> str:
    return (
        f"{row.subject} {row.objective.replace('_', ' ')} {_value(row.baseline)} -> "
        f"{_value(row.candidate)}: {difference_text(row)} (95 % CI, {row.n} paired seeds), "
        f"beyond -{result.tolerance:g}"
        if row.verdict == "regressed"
        else f"{row.subject} is not served by the candidate"
    )


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
