"""Regenerate the README's screenshots from the commands they show, in headless Chromium.

    .venv/bin/python tools/screenshots.py            # runs the commands below, then shoots
    .venv/bin/python tools/screenshots.py --from DIR # shoots DIR's pages (a run folder)
    .venv/bin/python tools/screenshots.py --into OUT # writes OUT/docs/... instead
    make screenshots                                  # the first

docs/recommendation.png is the top of recommendation.html from
`netlab optimize scenarios/kotim-baseline.toml` (about 5 minutes on 2 cores). Arguments are
passed as lists, never through a shell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETLAB = Path(sys.executable).parent / "netlab"
# (the image, the command whose run folder holds the page, the page, the window in pixels)
SHOTS = (
    (
        "docs/recommendation.png",
        ["optimize", "scenarios/kotim-baseline.toml", "--quiet"],
        "recommendation.html",
        (1200, 1500),
    ),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", type=Path, help="a run folder already made")
    parser.add_argument("--into", type=Path, default=ROOT, help="where docs/ is (the repository)")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshots: headless Chromium not found (make system-deps installs it)")
        return 2
    for image, command, page, size in SHOTS:
        folder = args.folder or _run(command)
        if not (folder / page).exists():
            print(f"screenshots: {folder}: no {page} (made by netlab {' '.join(command)})")
            return 2
        (args.into / image).parent.mkdir(parents=True, exist_ok=True)
        _shoot(chromium, folder / page, args.into / image, size)
        print(f"{image}: {page} of {folder} (netlab {' '.join(command)})")
    return 0


def _run(command: list[str]) -> Path:
    """Run `netlab COMMAND --out TEMP` from the repository and return the run folder made."""
    out = Path(tempfile.mkdtemp(prefix="netlab-screenshots-"))
    subprocess.run([str(NETLAB), *command, "--out", str(out)], cwd=ROOT, check=True)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def _shoot(chromium: str, page: Path, image: Path, size: tuple[int, int]) -> None:
    """The page's top `size` pixels as a PNG (plots drawn: Chromium waits for the page)."""
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # root: Chromium needs it off
    subprocess.run(
        [
            chromium,
            "--headless",
            *sandbox,
            "--hide-scrollbars",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={image}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    sys.exit(main())
