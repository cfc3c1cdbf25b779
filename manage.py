#!/usr/bin/env python
"""Django's command-line utility for the HSH Sales System."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hsh_admin.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, to report what is wrong
    except ImproperlyConfigured as exc:
        # Django would carry on and fail later with "Models aren't loaded yet".
        sys.exit(
            f"manage.py: {exc}\nOn a laptop, run it with DEBUG=1 (as the make targets do), "
            "or put SECRET_KEY in .env (see .env.example)."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
