"""Emulation tests build real Mininet networks: they need root, and skip (saying so) without it.

Run them with `.venv/bin/python -m pytest -m emulation tests/emulation`. As root on a machine
that lacks Mininet, mnexec or HTB they fail with the environment check's message rather than skip.
"""

from __future__ import annotations

import os

import pytest

NOT_ROOT = "emulation tests need root (network namespaces, tc): run them as root"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason=NOT_ROOT)
    for item in items:
        if "emulation" in item.keywords:
            item.add_marker(skip)
