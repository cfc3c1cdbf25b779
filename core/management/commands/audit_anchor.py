"""Verify the audit chain, then record its head outside the database: print it, and
e-mail it. A chain that does not hold gets no anchor: an alert instead, and exit 1."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.services import AuditAnchorNotSent, AuditChainBroken, audit_anchor_send


class Command(BaseCommand):
    help = (
        "Verify the audit chain (from the last anchor taken on, or whole), then print its "
        "head (seq:hash) as one line to keep and e-mail it to AUDIT_ANCHOR_EMAILS. Later, "
        "`verify_audit --anchor SEQ:HASH` proves that the chain still reaches that entry, "
        "unchanged. If the chain does not hold, no anchor is taken: the recipients get an "
        "alert naming the first broken entry, and the exit status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--email",
            action="append",
            metavar="ADDRESS",
            help="e-mail the anchor (or the alert) to this address instead of "
            "AUDIT_ANCHOR_EMAILS (repeat for several)",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="verify the whole chain, not only the entries since the last anchor taken",
        )

    def handle(self, *args, email=None, full=False, **options):
        sent_to = email if email is not None else settings.AUDIT_ANCHOR_EMAILS
        try:
            anchor = audit_anchor_send(recipients=email, full=full)
        except AuditChainBroken as broken:
            self.stderr.write(
                self.style.ERROR(f"Audit chain broken: {broken.check.problem}. No anchor taken.")
            )
            if sent_to:
                self.stderr.write(f"alert e-mailed to {', '.join(sent_to)}")
            raise SystemExit(1) from None
        except AuditAnchorNotSent as unsent:
            self._print(unsent.anchor)
            self.stderr.write(
                self.style.ERROR(
                    f"The e-mail to {', '.join(sent_to)} failed ({unsent.error}): keep the "
                    "anchor above yourself, and check EMAIL_URL."
                )
            )
            raise SystemExit(1) from None
        self._print(anchor)
        if sent_to:
            self.stdout.write(f"e-mailed to {', '.join(sent_to)}")
        else:
            self.stdout.write("not e-mailed: AUDIT_ANCHOR_EMAILS is empty")

    def _print(self, anchor):
        self.stdout.write(anchor.line)
        self.stdout.write(f"verified first: {anchor.verified}")
        self.stdout.write(f"Check it later with: manage.py verify_audit --anchor {anchor.text}")
