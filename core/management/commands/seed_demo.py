"""Load demo data. Idempotent: running it again leaves the same data, not twice as much."""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create demo depots, users (one per role), products and business data. "
        "Each app contributes its part from its demo.py, in INSTALLED_APPS order."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo users have published passwords.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with published passwords; it runs only with "
                "DEBUG on. Use --force to load it into a non-debug installation anyway."
            )
        logins, modules = [], []
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                try:
                    module = import_module(f"{app_config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app_config.name}.demo":
                        raise
                    continue
                result = module.seed(stdout=self.stdout) or {}
                logins.extend(result.get("logins", []))
                modules.append(module)
        # What the database holds now, counted (each part's totals(), once all have run).
        totals = [t for module in modules if hasattr(module, "totals") for t in module.totals()]
        self.stdout.write(self.style.SUCCESS(f"Demo data is ready: {', '.join(totals)}."))
        if logins:
            self.stdout.write("Logins (username / password / role / depots):")
            for username, password, role, depots in logins:
                self.stdout.write(f"  {username:<10} {password:<18} {role:<22} {depots}")
