"""Record the audit chain's head outside the database: print it, and e-mail it."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.services import audit_anchor_send


class Command(BaseCommand):
    help = (
        "Print the audit chain's head (seq:hash) as one line to keep, and e-mail it to "
        "AUDIT_ANCHOR_EMAILS. Later, `verify_audit --anchor SEQ:HASH` proves that the "
        "chain still reaches that entry, unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--email",
            action="append",
            metavar="ADDRESS",
            help="e-mail the anchor to this address instead of AUDIT_ANCHOR_EMAILS "
            "(repeat for several)",
        )

    def handle(self, *args, email=None, **options):
        anchor = audit_anchor_send(recipients=email)
        self.stdout.write(anchor.line)
        self.stdout.write(f"Check it later with: manage.py verify_audit --anchor {anchor.text}")
        sent_to = email if email is not None else settings.AUDIT_ANCHOR_EMAILS
        if sent_to:
            self.stdout.write(f"e-mailed to {', '.join(sent_to)}")
        else:
            self.stdout.write("not e-mailed: AUDIT_ANCHOR_EMAILS is empty")
