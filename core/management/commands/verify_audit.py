"""Walk the audit hash chain and name the first entry that does not hold."""

import re

from django.core.management.base import BaseCommand, CommandError

from core.selectors import audit_chain_check

ANCHOR = re.compile(r"(\d+):([0-9a-f]{64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """(seq, hash) of an anchor as `audit_anchor` prints it: SEQ:HASH."""
    match = ANCHOR.fullmatch(text.strip().lower())
    if match is None:
        raise CommandError(
            f"The anchor {text!r} is not SEQ:HASH as `manage.py audit_anchor` prints it "
            "(an entry number, a colon and 64 hexadecimal digits)."
        )
    return int(match[1]), match[2]


def first_break(anchors=()):
    """(entry or None, problem) for the first break in the chain; (None, None) when it
    holds. See core.selectors.audit_chain_check."""
    check = audit_chain_check(anchors=anchors)
    return check.entry, check.problem


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain: numbering without gaps, each entry linked to "
        "the one before, each entry's content matching its keyed hash (AUDIT_HMAC_KEY), "
        "and, with --anchor, that the chain still reaches each anchor unchanged. Exit "
        "status 1 on a break."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="an anchor printed or e-mailed by `manage.py audit_anchor` (repeatable)",
        )

    def handle(self, *args, anchor=(), **options):
        anchors = {}
        for seq, anchored in map(parse_anchor, anchor):
            if anchors.setdefault(seq, anchored) != anchored:
                raise CommandError(f"Two anchors for entry #{seq} disagree: one is not real.")
        check = audit_chain_check(anchors=anchors.items())
        if not check.intact:
            self.stderr.write(self.style.ERROR(f"Audit chain broken: {check.problem}."))
            raise SystemExit(1)
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {check.checked} entries verified.")
        )
        for seq in sorted(anchors):
            self.stdout.write(f"anchor #{seq} holds: the entry still has the anchored hash.")
