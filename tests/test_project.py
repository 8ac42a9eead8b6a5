"""Project-level promises: the README's configuration table and the `yaji` command."""

from __future__ import annotations

import ast
import gettext
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


def _po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry of a .po file (enough of the format for a check).

    An entry with a context has ``context + "\x04" + msgid`` as its msgid, as in the .mo file.
    """
    entries = []
    for block in path.read_text().split("\n\n"):
        fields: dict[str, str] = {}
        current = ""
        for line in block.splitlines():
            if line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
                current, _, rest = line.partition(" ")
                fields[current] = ast.literal_eval(rest.strip())
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line.strip())
        if fields.get("msgid"):
            msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
            msgid = fields["msgid"]
            if "msgctxt" in fields:
                msgid = f"{fields['msgctxt']}\x04{msgid}"
            entries.append((msgid, msgstr, "#, fuzzy" in block))
    return entries


def test_every_interface_string_has_an_english_translation():
    po = ROOT / "yaji" / "locale" / "en" / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, msgstr, fuzzy in _po_entries(po) if not msgstr or fuzzy]
    assert not missing, f"untranslated or fuzzy: {missing[:10]}"
    # The committed .mo is what the site serves: it must hold what the .po says.
    with po.with_suffix(".mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    stale = [msgid for msgid, msgstr, _ in _po_entries(po) if catalog.gettext(msgid) != msgstr]
    assert not stale, f"recompile with `yaji compilemessages -l en`: {stale[:5]}"
