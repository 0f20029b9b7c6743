"""The plugin distributions shipped in plugins/, by plugin name (each one's folder and entry point name).

Core tests that load "every shipped plugin" name them in ``PLUGINS_ENABLED``, so that another plugin installed in the
same environment changes nothing in the core's suite.
"""

import re
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


def shipped():
    """{plugin name: (modality key, label)} of every shipped plugin, read from its package's source."""
    found = {}
    for init in sorted(PLUGINS.glob("*/src/*/__init__.py")):
        text = init.read_text()
        found[init.parents[2].name] = (
            re.search(r'^KEY = "([^"]+)"', text, re.M).group(1),
            re.search(r'label="([^"]+)"', text).group(1),
        )
    return found


SHIPPED = shipped()
#: ``PLUGINS_ENABLED`` for an app with the core and every shipped plugin, and nothing else installed
ALL_SHIPPED = sorted(SHIPPED)
