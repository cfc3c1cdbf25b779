import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from core.append_only import AppendOnlyModel
from core.history import tracked
from core.roles import Role

__all__ = ["Depot", "OutboxKind", "OutboxMessage", "OutboxStatus", "Role", "User"]


class Depot(models.Model):
    code = models.CharField(
        max_length=20, unique=True, help_text="Short code used everywhere, e.g. NORTH."
    )
    name = models.CharField(max_length=100)
    is_active = models.BooleanField("active", default=True)

    history = tracked()

    # How core.scoping finds this model's depot: the depot is the row itself.
    depot_scope = "pk"

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class HSHUserManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra_fields: Any,
    ) -> "User":
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A member of staff. The role decides where they work: admin site or field API."""

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.SALES)
    vehicle_no = models.CharField(
        "vehicle number",
        max_length=20,
        blank=True,
        help_text="Registration of the vehicle a sales representative drives.",
    )
    depots = models.ManyToManyField(
        Depot,
        blank=True,
        related_name="staff",
        help_text="A manager sees these depots; a sales representative has exactly one.",
    )

    token_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised by a password change or 'log out everywhere': API tokens issued "
        "before it stop working.",
    )

    depot_scope = "depots"

    objects: ClassVar[HSHUserManager] = HSHUserManager()
    # Passwords and logins are not business history; never store hashes twice.
    history = tracked(excluded_fields=["password", "last_login", "token_version"])

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle_no"],
                condition=~Q(vehicle_no=""),
                name="core_user_vehicle_no_unique",
                violation_error_message="Another user already drives this vehicle.",
            ),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{self.username} ({full})" if full else self.username

    _password: str | None  # AbstractBaseUser's: the new raw password until saved
    _password_disabled = False

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Admin sessions end with the API tokens: Django checks this hash on every
        request, and it covers the token version as well as the password, so 'log out
        everywhere' (and a password change) ends the user's browser sessions too."""
        return salted_hmac(
            "core.User.get_session_auth_hash",
            f"{self.password}:{self.token_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Staff status follows the role: head office and managers use the admin, sales
        # representatives never do. Group membership follows in core.services.
        self.is_staff = self.role in (Role.ADMIN, Role.MANAGER)
        if kwargs.get("update_fields") is not None and "role" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        # A new password ends every API token issued before (core.auth). Every path that
        # changes one (admin forms, changepassword, services) calls set_password() or
        # set_unusable_password() and then saves, so this is the one place that sees
        # them all. Django's re-hash of the same password at login clears _password
        # before saving: not a change. The version is raised in the UPDATE itself.
        revoke = not self._state.adding and (self._password is not None or self._password_disabled)
        if not revoke:
            super().save(*args, **kwargs)
            self._password_disabled = False
            return
        previous = self.token_version
        self.token_version = models.F("token_version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "token_version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.token_version = previous
            raise
        self._password_disabled = False
        self.refresh_from_db(fields=["token_version"])

    @property
    def is_sales(self) -> bool:
        return self.role == Role.SALES

    @property
    def home_depot(self) -> Depot | None:
        """The one depot of a sales representative (None for other roles)."""
        if not self.is_sales:
            return None
        return self.depots.first()


class DocumentCounter(models.Model):
    """The last number issued in a series for a year. Locked while a document is numbered,
    so numbers are gapless: a rolled-back posting rolls its increment back too."""

    series = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="core_counter_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_value}"


class AuditLog(AppendOnlyModel):
    """One row per business action, written by the service in the same transaction.

    Hash-chained: `hash` is an HMAC-SHA256, keyed with AUDIT_HMAC_KEY (kept outside the
    database), of `prev_hash` and a canonical serialisation of the entry
    (core.services.audit_hash), and `seq` numbers the chain without gaps, so a changed,
    removed or inserted row is found by `manage.py verify_audit`, and someone who can
    write the database but lacks the key cannot re-forge the chain after a change.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="audit_entries")
    action = models.CharField(max_length=50, db_index=True)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    depot = models.ForeignKey(
        Depot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # No default, in the database or here: every writer names it (core.services).
    writer_version = models.PositiveSmallIntegerField(
        editable=False,
        help_text="The audit writer that appended the entry: 1 before migration 0014, 2 the "
        "keyed writer. Neither hashed nor trusted (the seal says which entries are "
        "unkeyed). It is there so that a process still running code from before "
        "AUDIT_HMAC_KEY, whose INSERT does not name it, is refused (NOT NULL, no default) "
        "instead of appending an unkeyed entry after the seal.",
    )

    depot_scope = "depot"

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        from core.audit_words import action_words

        return f"{action_words(self.action)} (entry {self.seq})"


class AuditChainHead(models.Model):
    """The end of the audit chain: one row, locked by each writer to append in turn.

    On PostgreSQL a trigger (migration 0012) lets it only move forward, onto the entry
    just appended: it cannot be moved back over removed entries, deleted or truncated.
    """

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain at #{self.last_seq}"


class AuditChainSeal(AppendOnlyModel):
    """Where the keyed chain begins, on installations that had entries before
    AUDIT_HMAC_KEY: entries up to `seq` were hashed with plain SHA-256, entries after it
    are keyed.

    Written once, by migration 0014, for the entries that existed then. Why a seal
    rather than a hash version on each entry: a version on the entry would be the
    forger's to choose ("this one is unkeyed"). The seal instead carries `mac`, an HMAC
    with the key over `seq` and the last unkeyed entry's `hash`, so nobody without the
    key can move the boundary, and the unkeyed entries cannot be rewritten and re-hashed
    either (the last one's hash would no longer be the sealed one). Without a seal every
    entry must be keyed.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"audit chain keyed after #{self.seq}"


class AuditAnchorRecord(AppendOnlyModel):
    """An anchor `audit_anchor` took and sent: the chain as verified up to `seq`.

    The next anchor verifies the chain from here on instead of from its start (a day's
    entries, not all of them), so an anchor is never sent for a chain that does not hold.
    `mac` (HMAC with AUDIT_HMAC_KEY) stops someone who can write the database but lacks
    the key from recording a forged chain's head as verified. The record is a starting
    point only: the anchors kept outside the database remain the proof.
    """

    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)
    taken_at = models.DateTimeField()

    class Meta:
        verbose_name = "audit anchor taken"
        verbose_name_plural = "audit anchors taken"

    def __str__(self) -> str:
        return f"audit anchor #{self.seq} taken {self.taken_at:%Y-%m-%d %H:%M}"


class SubmissionToken(models.Model):
    """A confirm button's one-time token, claimed in the transaction that posts the
    document, so a double click or a resubmitted page posts once."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.token


class IdempotencyKey(models.Model):
    """A POST's Idempotency-Key, claimed in the transaction that posts, with the response
    it got: a retry with the same key gets that response again instead of a second post."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    path = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class OutboxKind(models.TextChoices):
    INVOICE = "INVOICE", "Tax invoice"
    CREDIT_NOTE = "CREDIT_NOTE", "Credit note"
    RECEIPT = "RECEIPT", "Receipt"
    REVERSAL = "REVERSAL", "Reversal notice"
    STATEMENT = "STATEMENT", "Statement of account"
    RETURN = "RETURN", "Cylinder return receipt"


class OutboxStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting to be sent"
    SENDING = "SENDING", "Being sent"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"


class OutboxMessage(models.Model):
    """A document's e-mail to deliver, written by the posting in the document's own
    transaction (core.services.outbox_enqueue) and sent later by billing's worker
    (billing.services.outbox_send), which retries it with backoff.

    `next_attempt_at` is when a PENDING message is due, and for a SENDING one the end of
    its sender's lease: a message still SENDING after it lost its worker, and is taken
    again. `key` names the message for good (its Message-ID), so a mail server that sees
    it twice can tell."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=OutboxKind.choices)
    document_type = models.CharField(
        max_length=50, help_text="The document's model, e.g. sales.Transaction."
    )
    document_id = models.PositiveBigIntegerField()
    number = models.CharField(max_length=30, help_text="The document's number.")
    to = models.EmailField("recipient", max_length=254)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        help_text="When it is due (waiting), or when its sender's lease ends (being sent)."
    )
    last_error = models.TextField("last error", blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    resend_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resends",
        help_text="The message head office asked to send again.",
    )

    class Meta:
        ordering = ["-pk"]  # newest first, by the primary key's index
        indexes = [
            # The sender's query: due waiting messages and expired leases.
            models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due"),
            models.Index(fields=["document_type", "document_id"], name="core_outbox_document"),
        ]
        permissions = [("resend_outboxmessage", "Can resend an outbox message")]
        verbose_name = "outbox message"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} to {self.to}"
