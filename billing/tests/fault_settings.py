"""Settings of the worker processes the fault tests start
(billing/tests/test_fault_worker_kill.py): the project's own, with e-mail written to
files (EMAIL_URL=filemail://...) by a backend that can kill its worker right after a
message is written (billing.tests.fault_mail)."""

from hsh_admin.settings import *  # noqa: F403

EMAIL_BACKEND = "billing.tests.fault_mail.CutAfterAcceptBackend"
