"""POST /api/sync/: a handheld's batch of documents captured offline (sales, payments,
load sheets and empty returns, cylinder returns), posted in order, each on its own.

Each document goes the way its own endpoint's POST goes (its serializer, then the
viewset's perform_post, the one service call), as the representative signed in, with
its client_id as the Idempotency-Key: the key is claimed as the header would claim it
(sales.services.sync.sync_key_claim), in the document's own transaction, so a refused
document keeps no key and sending it again retries it. A refused document is kept as a
sync refusal for a manager (sales.services.sync)."""

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import FieldPermission, error
from core.api.errors import exception_handler
from core.db import database_error_message, is_connection_lost, run_atomic_with_retry
from core.idempotency import REUSED, replays_watched
from core.models import User
from core.parsers import JSONParser as ProjectJSONParser
from sales.api import PaymentViewSet, SaleViewSet
from sales.api_returns import CylinderReturnViewSet
from sales.api_sync_schema import SYNC_SCHEMA
from sales.models import CylinderReturn, Payment, SyncRefusal, SyncRefusalStatus, Transaction
from sales.services.sync import (
    key_reused_error,
    sync_key_claim,
    sync_refusal_record,
    sync_refusals_decided,
    sync_refusals_lock,
    sync_refusals_open,
    sync_refusals_settle,
)
from stock.api import DistributionViewSet
from stock.models import Distribution

logger = logging.getLogger(__name__)

MAX_DOCUMENTS = 500
CLIENT_ID_MAX_LENGTH = 100
ENVELOPE = ("client_id", "type")  # the sync's own fields; the rest is the document's


@dataclass(frozen=True)
class DocumentType:
    viewset: type
    route: str  # the single endpoint, whose path the key is recorded under
    number_field: str
    model: type[Model]
    keyed_by: str  # the field of the user whose key the document keeps

    def keyed(self, user: User, key: str) -> Model | None:
        """The document this user's key posted, if any."""
        return (
            self.model._default_manager.filter(**{self.keyed_by: user, "idempotency_key": key})
            .order_by("pk")
            .first()
        )


DOCUMENT_TYPES = {
    "sale": DocumentType(SaleViewSet, "api:sale-list", "number", Transaction, "created_by"),
    "payment": DocumentType(PaymentViewSet, "api:payment-list", "number", Payment, "received_by"),
    "distribution": DocumentType(
        DistributionViewSet, "api:distribution-list", "distribution_no", Distribution, "created_by"
    ),
    "return": DocumentType(
        CylinderReturnViewSet, "api:cylinder-return-list", "number", CylinderReturn, "created_by"
    ),
}


def batch_problems(data: object) -> dict[str, list[str]]:
    """What is wrong with the batch's shape, by path (documents[3].client_id); nothing
    is posted from a batch with any."""
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        return {"documents": ['Send the documents as a list: {"documents": [...]}.']}
    if not 1 <= len(documents) <= MAX_DOCUMENTS:
        return {
            "documents": [
                f"Send between 1 and {MAX_DOCUMENTS} documents at once; {len(documents)} sent."
            ]
        }
    problems: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        at = f"documents[{index}]"
        if not isinstance(document, dict):
            problems[at] = ["Each document is an object with client_id and type."]
            continue
        client_id = document.get("client_id")
        if not isinstance(client_id, str) or not client_id.strip():
            problems[f"{at}.client_id"] = ["Give the document's client_id (text, not empty)."]
        elif len(client_id) > CLIENT_ID_MAX_LENGTH:
            problems[f"{at}.client_id"] = [
                f"A client_id takes at most {CLIENT_ID_MAX_LENGTH} characters."
            ]
        elif any(ord(c) < 32 or ord(c) == 127 for c in client_id):
            problems[f"{at}.client_id"] = ["A client_id may not hold control characters."]
        elif client_id.strip() in seen:
            problems[f"{at}.client_id"] = [
                f"The same client_id as documents[{seen[client_id.strip()]}]: each document "
                "in a batch has its own."
            ]
        else:
            seen[client_id.strip()] = index
        doc_type = document.get("type")
        if not isinstance(doc_type, str) or doc_type not in DOCUMENT_TYPES:
            problems[f"{at}.type"] = [
                f"The type is one of {', '.join(DOCUMENT_TYPES)}; {json.dumps(doc_type)} sent."
            ]
    return problems


def rep_request(user: User) -> Request:
    """A request as `user` for the per-type serializers and viewsets, outside the API
    (the admin's repost posts as the representative)."""
    http = HttpRequest()
    http.method = "POST"
    request = Request(http)
    request.user = user
    return request


def document_post(
    request: Request, doc_type: str, client_id: str, fields: dict[str, Any]
) -> tuple[Model, bool]:
    """Post one document as request.user, inside the caller's transaction: its key
    claimed, its fields read by its type's serializer, then its endpoint's perform_post.
    Returns (document, replayed). Raises what the serializer or service raises."""
    kind = DOCUMENT_TYPES[doc_type]
    user = request.user
    path = reverse(kind.route)
    digest = hashlib.sha256(
        (path + json.dumps(fields, sort_keys=True, default=str)).encode()
    ).hexdigest()
    view = kind.viewset(request=request, format_kwarg=None, args=(), kwargs={}, action="create")
    new_key = sync_key_claim(user=user, key=client_id, path=path, request_hash=digest)
    if not new_key:
        # The same request again: answered from the document its key posted, before the
        # serializer reads today's state (a customer closed since, a representative moved
        # depot), which must not turn a retry of a posted document into a refusal.
        existing = kind.keyed(user, client_id)
        if existing is not None:
            return existing, True
    serializer = view.get_serializer(data=fields)
    serializer.is_valid(raise_exception=True)
    with replays_watched() as replays:
        posted = view.perform_post(serializer.validated_data, actor=user, idempotency_key=client_id)
    if not new_key and not replays:
        # The key's record says this request had it, but no document keeps the key (a
        # request from before documents kept their keys): nothing is posted.
        raise key_reused_error()
    return posted, bool(replays)


def document_number(doc_type: str, document: Model) -> str:
    return str(getattr(document, DOCUMENT_TYPES[doc_type].number_field))


def repost_as_representative(
    sales_rep: User, doc_type: str, client_id: str, document: dict[str, Any]
) -> str:
    """The admin's repost (sales.services.sync.sync_refusal_repost's `post`): the
    corrected document posted as the representative, the same way as the sync posts it.
    A serializer's refusal becomes a ValidationError keyed by the field's path."""
    fields = {k: v for k, v in document.items() if k not in ENVELOPE}
    try:
        posted, _ = document_post(rep_request(sales_rep), doc_type, client_id, fields)
    except exceptions.ValidationError as exc:
        body = exception_handler(exc, {})
        raise DjangoValidationError(
            {
                name: [DjangoValidationError(m, code="invalid") for m in messages]
                for name, messages in body.data["error"]["fields"].items()
            }
            or DjangoValidationError(body.data["error"]["message"], code="invalid")
        ) from exc
    return document_number(doc_type, posted)


def refusal_body(exc: Exception, request: Request) -> dict[str, Any]:
    """The API's error for one document: {"status", "code", "message", "fields"}, as its
    own endpoint would answer it; a reused key on client_id, 409."""
    unavailable = database_error_message(exc)
    if unavailable is not None:  # answered here: the API's handler would close the connection
        logger.warning("sync: a document refused for a database failure: %r", exc)
        code = "database_unavailable" if is_connection_lost(exc) else "database_busy"
        return {"status": 503, "code": code, "message": unavailable, "fields": {}}
    response = exception_handler(exc, {"request": request})
    if response is None:
        logger.exception("sync: a document failed", exc_info=exc)
        return {
            "status": 500,
            "code": "server_error",
            "message": "Something went wrong on our side with this document; it was logged. "
            "Send it again later.",
            "fields": {},
        }
    body = dict(response.data["error"])
    fields = dict(body.get("fields") or {})
    if "idempotency_key" in fields:
        fields["client_id"] = fields.pop("idempotency_key")
    if body.get("code") == REUSED:
        body["status"] = 409
    body["fields"] = fields
    return body


class SyncView(APIView):
    """A handheld's day, sent when it has signal: its documents posted in order, each on
    its own, each answered posted, replayed or refused."""

    permission_classes = [FieldPermission]
    parser_classes = [ProjectJSONParser]  # its depth limit: a 400, never a RecursionError
    throttle_scope = "writes"

    @extend_schema(**SYNC_SCHEMA)
    def post(self, request: Request) -> Response:
        problems = batch_problems(request.data)
        if problems:
            first = next(iter(problems.values()))[0]
            return error(400, "invalid", first, problems)
        documents = request.data["documents"]
        user = request.user
        ids = [d["client_id"].strip() for d in documents]
        open_refusals = sync_refusals_open(sales_rep=user, client_ids=ids)
        decided = sync_refusals_decided(sales_rep=user, client_ids=ids)
        results = [
            {
                **(
                    _decided_result(client_id, decided[client_id])
                    if client_id in decided and client_id not in open_refusals
                    else self._one(request, document, client_id, client_id in open_refusals)
                ),
                "client_id": document["client_id"],  # as sent
            }
            for document, client_id in zip(documents, ids, strict=True)
        ]
        return Response({"results": results})

    def _one(
        self, request: Request, document: dict[str, Any], client_id: str, has_refusal: bool
    ) -> dict[str, Any]:
        doc_type = document["type"]
        fields = {k: v for k, v in document.items() if k not in ENVELOPE}
        user = request.user

        def post() -> tuple[str, bool]:
            refusals = (
                sync_refusals_lock(sales_rep=user, client_id=client_id) if has_refusal else []
            )
            posted, replayed = document_post(request, doc_type, client_id, fields)
            number = document_number(doc_type, posted)
            if refusals and not replayed:
                sync_refusals_settle(refusals=refusals, number=number, actor=user)
            return number, replayed

        try:
            try:
                number, replayed = run_atomic_with_retry(post, actor=user, name="sync")
            except IntegrityError:
                # Another handheld of the same representative claimed the key first and
                # has committed: this attempt now finds its document (a replay).
                number, replayed = run_atomic_with_retry(post, actor=user, name="sync")
        except (
            DjangoValidationError,
            DjangoPermissionDenied,
            exceptions.APIException,
        ) as exc:
            body = refusal_body(exc, request)
            self._keep(request, document, doc_type, client_id, body)
            return _result(client_id, "refused", None, body)
        except Exception as exc:
            body = refusal_body(exc, request)
            if database_error_message(exc) is not None:
                _drop_broken_connection()
            else:
                self._keep(request, document, doc_type, client_id, body)
            return _result(client_id, "refused", None, body)
        return _result(client_id, "replayed" if replayed else "posted", number, None)

    def _keep(
        self,
        request: Request,
        document: dict[str, Any],
        doc_type: str,
        client_id: str,
        body: dict[str, Any],
    ) -> None:
        """The refused document kept for a manager; failing that, only logged (the
        handheld has its refusal and sends it again). A client_id reused for another
        document is not kept: no repost could ever post under it."""
        if body.get("code") == REUSED:
            return
        occurred = document.get("occurred_at")
        try:
            moment = parse_datetime(occurred) if isinstance(occurred, str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            moment = None
        user = request.user
        try:
            sync_refusal_record(
                sales_rep=user,
                client_id=client_id,
                doc_type=doc_type,
                document=json.loads(json.dumps(document, default=str)),
                error=body,
                occurred_at=moment,
                depot=user.depots.order_by("pk").first(),
            )
        except Exception:
            logger.exception("sync: refusal of %s %s not kept", doc_type, client_id)
            _drop_broken_connection()


def _drop_broken_connection() -> None:
    """After a database failure: a connection that no longer answers is closed, so the
    next document opens a new one (Django reconnects on the next query)."""
    if connection.in_atomic_block:
        return  # inside an outer transaction (a test's): its owner decides
    try:
        usable = connection.is_usable()
    except Exception:
        usable = False
    if not usable:
        connection.close()


def _decided_result(client_id: str, refusal: SyncRefusal) -> dict[str, Any]:
    """A document a manager has already decided on, sent again as it was: corrected and
    posted, it replays with the number it was posted under; dismissed, it is refused for
    good (sync_refusal_dismissed), with the manager's reason, and kept no longer."""
    if refusal.status == SyncRefusalStatus.REPOSTED:
        return _result(client_id, "replayed", refusal.reposted_number, None)
    when = timezone.localtime(refusal.resolved_at).strftime("%d %b %Y %H:%M")
    message = (
        f"A manager dismissed this document on {when}: {refusal.resolution_note}. It will "
        "not be posted; if it should be, enter it again as a new document (a new client_id)."
    )
    body = {"status": 400, "code": "sync_refusal_dismissed", "message": message, "fields": {}}
    return _result(client_id, "refused", None, body)


def _result(
    client_id: str, status: str, number: str | None, body: dict[str, Any] | None
) -> dict[str, Any]:
    return {"client_id": client_id, "status": status, "number": number, "error": body}
