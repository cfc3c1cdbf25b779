"""The e-mail backend of the worker processes the fault tests start
(billing/tests/test_fault_worker_kill.py, through billing.tests.fault_settings).

Django's file backend (each message written and flushed to EMAIL_FILE_PATH), with a file
per connection whose name no other process can pick (Django's own names a file by the
second and the object's address, which two prefork children, forked from one parent,
may share), and which, after writing the message whose Message-ID is
FAULT_CUT_AFTER_MESSAGE_ID, kills its whole worker (SIGKILL to the process group: the
pool's parent and every child). That is a machine that dies the moment the mail server
has accepted a message, before the outbox could mark it sent: the one moment at which
the outbox cannot know whether it went.
"""

import os
import signal
import uuid

from django.core.mail.backends import filebased


class CutAfterAcceptBackend(filebased.EmailBackend):
    def _get_filename(self):
        if self._fname is None:
            self._fname = os.path.join(self.file_path, f"{os.getpid()}-{uuid.uuid4().hex}.log")
        return self._fname

    def send_messages(self, email_messages):
        count = super().send_messages(email_messages)
        victim = os.environ.get("FAULT_CUT_AFTER_MESSAGE_ID", "")
        if victim and any(m.extra_headers.get("Message-ID") == victim for m in email_messages):
            os.killpg(os.getpgrp(), signal.SIGKILL)
        return count
