"""The ``yaji`` console command: Django's management commands under one friendly name.

``yaji serve 8000``, ``yaji migrate``, ``yaji demo-data`` ... Hyphens in a command name are
accepted for underscores, like ``sentry`` and ``manage.py`` users expect.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaji.settings")
    argv[0] = "yaji"
    if len(argv) > 1 and "-" in argv[1] and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
