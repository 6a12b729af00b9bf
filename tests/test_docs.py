"""README stays true: its quick start is what CI runs, and every command is documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from jifen_xl.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start() -> list[str]:
    head = README.split("---", 1)[0]
    return [line.strip() for line in head.splitlines() if line.startswith("    ")]


def test_readme_opens_with_the_demo_and_the_test_commands():
    demo, tests = quick_start()
    assert "jifen-xl demo" in demo and demo.startswith("pip install")
    assert tests.endswith("python -m pytest -q")


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r"sed -n '(.+)' README\.md", script).group(1)
    extracted = subprocess.run(["sed", "-n", pattern, str(ROOT / "README.md")], capture_output=True, text=True,
                               check=True).stdout.splitlines()[0]
    assert extracted == quick_start()[1]


def test_every_command_is_in_the_readme():
    missing = [name for name in cli.commands if f"jifen-xl {name}" not in README]
    assert missing == []
