"""Project-level promises: the README's configuration table and the `yaji` command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from yaji.config import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent


def test_readme_configuration_table_lists_exactly_the_variables_the_code_reads():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.M))
    assert documented == {var.name for var in ENV_VARS}


def test_every_env_var_is_read_somewhere_in_the_code():
    source = "\n".join(p.read_text() for p in (ROOT / "yaji").rglob("*.py"))
    for var in ENV_VARS:
        assert source.count(f'"{var.name}"') >= 2, f"{var.name} is documented but never read"


def test_yaji_command_accepts_hyphenated_command_names(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "yaji.cli", "demo-data", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"YAJI_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout.lower()


def test_unknown_command_fails_with_a_helpful_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "yaji.cli", "no-such-command"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"YAJI_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode != 0
    assert "Unknown command" in result.stderr
