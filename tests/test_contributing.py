"""CONTRIBUTING.md's layout is the tree: every path it names exists, and every package folder is named."""

from __future__ import annotations

import subprocess

from tests.helpers import ROOT


def layout_paths() -> list[str]:
    """The first word of each entry of the code block under '## Layout' (continuation lines are indented)."""
    block = (ROOT / "CONTRIBUTING.md").read_text().split("## Layout", 1)[1].split("```", 2)[1]
    return [line.split()[0] for line in block.splitlines() if line.strip() and not line[0].isspace()]


def test_every_path_in_the_layout_exists():
    paths = layout_paths()
    assert len(paths) > 10
    assert [path for path in paths if not (ROOT / path).exists()] == []
    assert all((ROOT / path).is_dir() == path.endswith("/") for path in paths), "folders end in /, files do not"


def test_every_package_folder_is_in_the_layout():
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    packages = {name.rsplit("/", 1)[0] + "/" for name in files if name.endswith("/__init__.py")}
    packages = {package for package in packages if not package.startswith("tests/")}
    assert packages, "no package found: is this a git checkout?"
    assert sorted(packages - set(layout_paths())) == []
