"""Admin screens that post business documents: fill in, preview, confirm, post.

The preview runs the real service in a transaction that is rolled back (a dry run), so
the clerk sees the service's own refusal before confirming, and no rule is written twice.
"""

import logging
import re
import secrets

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.functional import cached_property

from core.db import atomic_with_retry, database_error_message

logger = logging.getLogger(__name__)


class _Rollback(Exception):
    pass


def dry_run(func, /, **kwargs):
    """Call a service and roll everything it wrote back; return what it returned."""
    result = None
    try:
        with transaction.atomic():
            result = func(**kwargs)
            raise _Rollback
    except _Rollback:
        pass
    return result


def service_error_to_form(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (others on the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def confirm_and_post(
    request,
    model_admin,
    *,
    form_class,
    title: str,
    service,
    service_kwargs,
    preview,
    success,
    form_kwargs=None,
    permission: str,
    preview_in_dry_run: bool = False,
    template: str = "admin/hsh_confirm_form.html",
):
    """Run one fill-in / preview / confirm screen.

    service_kwargs(form) -> the keyword arguments of `service` from a valid form;
    preview(form, dry_result) -> list of lines to confirm; success(result) -> (message, url).
    With preview_in_dry_run the preview runs inside the rolled-back transaction, so it can
    read what the service wrote (lines, totals); otherwise it runs after, on today's data.
    """
    if not request.user.has_perm(permission):
        raise PermissionDenied
    form_kwargs = {"request": request, **(form_kwargs or {})}
    stage = "entry"
    lines = []
    token = ""
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if "_edit" in request.POST:
            form.is_valid()  # keep what was entered, show any field errors
        elif form.is_valid():
            try:
                if "_confirm" in request.POST:
                    result = _post_once(request, service, service_kwargs(form))
                    message, url = success(result)
                    messages.success(request, message)
                    return redirect(url)
                if preview_in_dry_run:
                    lines = dry_run(
                        lambda **kw: preview(form, service(**kw)), **service_kwargs(form)
                    )
                else:
                    lines = preview(form, dry_run(service, **service_kwargs(form)))
                stage = "confirm"
                token = secrets.token_urlsafe(24)
            except ValidationError as exc:
                service_error_to_form(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "You may not do this.")
            except AlreadyPosted:
                form.add_error(
                    None,
                    "This form was already posted (a second click, or the page was sent "
                    "again). Check the list before posting it again.",
                )
            except (OperationalError, InterfaceError) as exc:
                # Rolled back whole (the confirm token with it): the same page may be sent
                # again. A lost connection is reopened by the next query.
                logger.warning("%s: database failure shown on the form: %r", title, exc)
                form.add_error(None, database_error_message(exc))
    else:
        form = form_class(initial=request.GET.dict(), **form_kwargs)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "stage": stage,
        "preview_lines": lines,
        "token": token,
        "has_errors": bool(form.errors),
    }
    return TemplateResponse(request, template, context)


class AlreadyPosted(Exception):
    pass


# What secrets.token_urlsafe(24) gives (32 characters), within SubmissionToken.token's 64.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _post_once(request, service, kwargs):
    """Claim the confirm page's token and post, in one transaction (retried on a lock
    conflict). A second submission of the same page finds the token taken."""
    from core.models import SubmissionToken

    token = request.POST.get("_token", "")
    if not _TOKEN_SHAPE.fullmatch(token):
        # Empty, or not one we could have issued (too long for the column, a NUL).
        raise ValidationError("The confirmation expired; preview the form again.")

    @atomic_with_retry
    def claim_and_post():
        SubmissionToken.objects.create(token=token, user=request.user)
        return service(**kwargs)

    try:
        return claim_and_post()
    except IntegrityError:
        if SubmissionToken.objects.filter(token=token).exists():
            raise AlreadyPosted from None
        raise


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows, so a changelist over millions of rows stays fast.

    The count runs on `SELECT COUNT(*) FROM (SELECT id ... LIMIT CAP + 1)`. Beyond the cap
    the changelist offers the first CAP rows' pages; filters narrow the list further.
    """

    CAP = 10_000

    @cached_property
    def count(self):
        if hasattr(self.object_list, "values"):
            return self.object_list.values("pk")[: self.CAP + 1].count()
        return len(self.object_list)


__all__ = [
    "NON_FIELD_ERRORS",
    "CappedCountPaginator",
    "confirm_and_post",
    "dry_run",
    "service_error_to_form",
]
