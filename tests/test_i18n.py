"""The Simplified Chinese translation is complete: every translatable string has a msgstr."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from performance.appraisal.rules import describe as describe_rule

ROOT = Path(__file__).resolve().parent.parent


def untranslated(po_text: str) -> list[str]:
    """msgids whose msgstr (or every msgstr[n]) is empty, or that are marked fuzzy."""
    missing = []
    for block in po_text.split("\n\n")[1:]:
        msgid = "".join(re.findall(r'^(?:msgid|")(?: )?"(.*)"$', block.split("msgstr")[0], re.M))
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"\n?((?:".*"\n?)*)', block, re.M)
        if "#, fuzzy" in block or not strs or all(not (a + b).replace('"', "").strip() for a, b in strs):
            missing.append(msgid)
    return missing


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext tools not installed (apt-get install gettext)")
def test_every_string_in_the_code_has_a_chinese_translation(tmp_path):
    for part in ("performance", "commission", "templates", "config", "locale", "manage.py"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / part)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    po = (tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    assert untranslated(po) == []


@pytest.mark.django_db
def test_pages_switch_language_per_session():
    client = Client()
    assert "Log in" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "登录" in client.get("/login/").content.decode()
    with translation.override("zh-hans"):
        assert describe_rule("linear", {"floor": 0.5, "target": 0.85}) == "从 50%（0 分）到 85%（100 分）线性计分"
