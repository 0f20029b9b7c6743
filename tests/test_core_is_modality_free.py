"""The core never names a modality: modality knowledge lives in plugins."""

import re
from pathlib import Path

import clinicadmin
from clinicadmin.config import PROJECT_ROOT

# The modalities the product brief names, and every modality key a shipped plugin registers.
BRIEF_NAMES = [
    "microneedling",
    "acupuncture",
    "facial massage",
    "lymphatic",
    "prolotherapy",
    "dry needling",
    "dry_needling",
    "trigger point",
    "trigger-point",
]


def _shipped_keys():
    keys = set()
    for init in (PROJECT_ROOT / "plugins").glob("*/src/*/__init__.py"):
        keys.update(re.findall(r'^KEY = "([^"]+)"', init.read_text(), flags=re.M))
    return keys


def test_no_file_in_the_core_package_names_a_modality():
    names = {n.lower() for n in BRIEF_NAMES} | _shipped_keys()
    assert "microneedling" in names
    offenders = []
    for path in Path(clinicadmin.__file__).parent.rglob("*"):
        if path.suffix in (".py", ".html", ".css", ".js", ".txt", ".cfg") and path.is_file():
            text = path.read_text(errors="replace").lower()
            offenders += [f"{path}: {n}" for n in names if n in text]
    assert offenders == []
