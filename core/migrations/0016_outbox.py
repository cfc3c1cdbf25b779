"""The outbox (core.models.OutboxMessage): a document's e-mail, written in the posting's
transaction and sent by billing's worker. Head office may view and resend them."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

from core.roles import Role, grant, revoke

PERMISSIONS = [(Role.ADMIN, "core", "outboxmessage", ["view", "resend_outboxmessage"])]


def forwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def backwards(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_audit_anchor_record"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("INVOICE", "Tax invoice"),
                            ("CREDIT_NOTE", "Credit note"),
                            ("RECEIPT", "Receipt"),
                            ("REVERSAL", "Reversal notice"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "document_type",
                    models.CharField(
                        help_text="The document's model, e.g. sales.Transaction.", max_length=50
                    ),
                ),
                ("document_id", models.PositiveBigIntegerField()),
                ("number", models.CharField(help_text="The document's number.", max_length=30)),
                ("to", models.EmailField(max_length=254, verbose_name="recipient")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("PENDING", "Waiting to be sent"),
                            ("SENDING", "Being sent"),
                            ("SENT", "Sent"),
                            ("FAILED", "Failed"),
                        ],
                        default="PENDING",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        help_text="When it is due (waiting), or when its sender's lease ends "
                        "(being sent)."
                    ),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField()),
                (
                    "resend_of",
                    models.ForeignKey(
                        blank=True,
                        help_text="The message head office asked to send again.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resends",
                        to="core.outboxmessage",
                    ),
                ),
            ],
            options={
                "verbose_name": "outbox message",
                "ordering": ["-pk"],
                "permissions": [("resend_outboxmessage", "Can resend an outbox message")],
                "indexes": [
                    models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due"),
                    models.Index(
                        fields=["document_type", "document_id"], name="core_outbox_document"
                    ),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
