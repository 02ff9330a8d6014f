"""The example pipelines in docs/ci/ work: their own commands, run as the CI system would run
them (a repository with a base commit and a change on top), fail on a change that hurts a
site and pass on one that does not. Only `pip install` is replaced (netlab is installed here).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

yaml = pytest.importorskip("yaml")  # PyYAML comes with the cluster extra (dask)

DATA = ROOT / "tests" / "data" / "gate"
SCENARIO = "scenarios/kotim-baseline.toml"


def repository(tmp_path: Path, candidate: Path) -> tuple[Path, str]:
    """A git repository whose base commit has the gate's test baseline as SCENARIO and whose
    working tree has `candidate` there; returns it and the base commit."""
    repo = tmp_path / "repo"
    (repo / "scenarios").mkdir(parents=True)
    (repo / "topologies").mkdir()
    (repo / "topologies" / "kotim.toml").write_bytes((ROOT / "topologies/kotim.toml").read_bytes())

    def put(source: Path) -> None:
        text = source.read_text().replace("../../../topologies/", "../topologies/")
        (repo / SCENARIO).write_text(text)

    git = ["git", "-C", str(repo), "-c", "user.name=ci", "-c", "user.email=ci@example.org"]
    put(DATA / "kotim-tight.toml")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    base = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    put(candidate)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-am", "change"], check=True)
    return repo, base.stdout.strip()


def environment(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    """PATH with a `pip` that does nothing first, then this venv's netlab."""
    shims = tmp_path / "shims"
    shims.mkdir()
    pip = shims / "pip"
    pip.write_text("#!/bin/sh\nexit 0\n")
    pip.chmod(pip.stat().st_mode | stat.S_IEXEC)
    path = f"{shims}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    return {**os.environ, "PATH": path, **extra}


def github_script() -> tuple[str, dict[str, str]]:
    workflow = yaml.safe_load((ROOT / "docs/ci/github-actions.yml").read_text())
    job = workflow["jobs"]["gate"]
    step = next(s for s in job["steps"] if s.get("name") == "netlab gate")
    assert workflow[True]["pull_request"]["paths"] == ["topologies/**", "scenarios/**"]
    return step["run"], {k: str(v) for k, v in job["env"].items()}


def gitlab_script() -> tuple[str, dict[str, str]]:
    job = yaml.safe_load((ROOT / "docs/ci/gitlab-ci.yml").read_text())["netlab-gate"]
    assert job["rules"][0]["changes"] == ["topologies/**/*", "scenarios/**/*"]
    return "set -e\n" + "\n".join(job["script"]), {k: str(v) for k, v in job["variables"].items()}


@pytest.mark.parametrize(
    ("candidate", "status"),
    [(DATA / "kotim-rsud-lower.toml", 1), (DATA / "kotim-tight.toml", 0)],
    ids=["rsud-lowered-fails", "unchanged-passes"],
)
def test_the_github_workflow(tmp_path: Path, candidate: Path, status: int) -> None:
    repo, base = repository(tmp_path, candidate)
    script, env = github_script()
    summary = tmp_path / "step-summary.md"
    runner = tmp_path / "runner"
    runner.mkdir()
    extra = {
        **env,
        "BASE_SHA": base,
        "RUNNER_TEMP": str(runner),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=repo, env=environment(tmp_path, extra),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == status, done.stdout + done.stderr
    text = summary.read_text()
    assert ("rsud" in text and "**regressed**" in text) == (status == 1)
    assert (repo / "gate" / "kotim-baseline" / "junit.xml").exists()


def test_the_gitlab_job(tmp_path: Path) -> None:
    repo, base = repository(tmp_path, DATA / "kotim-rsud-lower.toml")
    script, variables = gitlab_script()
    builds = tmp_path / "builds"
    builds.mkdir()
    extra = {**variables, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_BUILDS_DIR": str(builds)}
    done = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=environment(tmp_path, extra),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    junit = repo / "gate" / "kotim-baseline" / "junit.xml"
    assert 'classname="gate.site.rsud"' in junit.read_text()
    assert "<failure" in junit.read_text()
