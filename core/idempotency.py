"""``Idempotency-Key`` for POST endpoints: a retried request gets the first answer again.

A phone that loses its connection after sending a POST cannot know whether the write
happened. It retries with the same ``Idempotency-Key`` header and gets the stored answer
instead of a second write. Keys are per user, so one user's key never returns another
user's answer.

How one keyed request runs (``idempotent``):

1. Claim the key: insert an ``in_progress`` record in its own transaction. Outside an outer
   transaction (the normal request cycle) it commits before the view runs, so a concurrent
   retry sees it and answers 409 instead of writing twice.
2. Run the view inside ``transaction.atomic`` and, in that same transaction, mark the record
   ``done`` with the answer. The view's writes and the stored answer commit together: either
   both exist or neither does.
3. If the view raises something the API cannot answer, or answers 5xx, its writes roll back
   and the record is deleted, so a retry runs the view again; so is a 4xx answer the
   database cannot store. A 4xx answer is stored and
   replayed: the request was judged, and judging it again would give the same answer.

If the process dies between 1 and 2 the record stays ``in_progress`` with nothing committed
behind it; after ``ABANDONED_AFTER`` a retry takes it over and runs the view. Records are
deleted after ``CONTINUUM_IDEMPOTENCY_RETENTION_DAYS`` (``idempotency_records_purge``).

No plaintext is kept. ``core`` holds no keys and imports no app, so an app registers an
``AnswerVault`` (the referral app does, in its ``AppConfig.ready``) that seals each stored
answer and keys the request fingerprint. A view says whom its answer concerns with
``answer_concerns(request, subject=person_id, resource=object_id)``; the vault seals such an
answer under that person's data key, and ``idempotency_answers_shred(subject=...)`` (called
by erasure) drops it. A replay whose answer can no longer be opened answers as the object
reads now: through the view's ``replay`` hook (``@idempotent(replay=...)``), else the stored
status with ``{"id": resource, "erased": true}``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from core.errors import Conflict, DomainError, ValidationFailed
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
# Visible ASCII and spaces, as HTTP header values allow; 1 to 255 characters.
KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
# A claim older than this is taken to belong to a request that died before committing
# (nothing it wrote survived: see step 2 above), so a retry may run the view again.
ABANDONED_AFTER = timedelta(minutes=5)
_CLAIM_ATTEMPTS = 3


KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 printable ASCII characters, unique per write (a UUID is a good choice). A "
        "retry with the same key and body answers the first answer again with "
        "`Idempotency-Replayed: true`; the same key with another request is 422; while the "
        "first request runs, 409. Kept at least 30 days."
    ),
)


class KeyReused(DomainError):
    """The key came back with a different method, path or body: 422, nothing runs."""

    http_status = 422
    code = "idempotency_key_reused"


def _in_progress() -> Conflict:
    return Conflict(
        f"A request with this {HEADER} is still in progress; retry later.",
        errors={HEADER: [_("A request with this key is still in progress.")]},
        code="idempotency_in_progress",
    )


PostHandler = Callable[..., Response]
# replay(view, request, resource, status, *args, **kwargs): the answer for a replay whose
# stored answer cannot be opened any more (the person it concerns was erased).
ReplayHandler = Callable[..., Response]


class AnswerVault(Protocol):
    """Seals stored answers; registered by an app that holds keys (``answer_vault_register``)."""

    def seal(self, *, record_id: int, subject: str, body: bytes) -> tuple[str, bytes | None]:
        """``(key_ref, blob)``: ``body`` sealed, under ``subject``'s key when there is one;
        ``(SHREDDED, None)`` when nothing may be kept about the subject (erased)."""
        ...

    def open(self, *, record_id: int, subject: str, key_ref: str, blob: bytes) -> bytes | None:
        """The body, or None when it cannot be opened any more (the subject was erased)."""
        ...

    def digest(self, data: bytes) -> str:
        """A keyed digest (hex, 64 characters) for request fingerprints."""
        ...


_vault: AnswerVault | None = None
# ``response_key_ref`` of an answer that was dropped because of whom it concerned.
SHREDDED = "shredded"


def answer_vault_register(vault: AnswerVault | None) -> None:
    global _vault  # noqa: PLW0603 - the one registry, set once at start-up
    _vault = vault


def _the_vault() -> AnswerVault:
    if _vault is None:
        raise ImproperlyConfigured(
            "No idempotency AnswerVault is registered: stored answers would be plaintext."
        )
    return _vault


def answer_concerns(request: Request, *, subject: object = None, resource: object = None) -> None:
    """Tell ``idempotent`` whom this request's answer concerns (a person id) and which object
    it made: the answer is then sealed under that person's key and shredded with them."""
    if subject is not None:
        request._idempotency_subject = str(subject)
    if resource is not None:
        request._idempotency_resource = str(resource)


def idempotency_answers_shred(*, subject: object) -> int:
    """Drop every stored answer that concerns ``subject`` (erasure); a replay of one of those
    keys then answers as the object reads now. Returns how many were dropped."""
    return (
        IdempotencyRecord.objects.filter(subject=str(subject))
        .exclude(response_key_ref=SHREDDED)
        .update(response_sealed=None, response_key_ref=SHREDDED)
    )


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    """Keyed digest of method, path and the parsed body as canonical JSON (sorted keys): the
    stored fingerprint cannot confirm a guessed body (a note) without the key."""
    if hasattr(data, "lists"):  # a QueryDict from a form body: keep repeated values
        data = dict(data.lists())
    body = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=JSONEncoder
    )
    return _the_vault().digest(f"{method.upper()}\n{path}\n{body}".encode())


def idempotent(post: PostHandler | None = None, *, replay: ReplayHandler | None = None) -> Any:
    """Decorate an ``APIView.post`` so that it honours the ``Idempotency-Key`` header
    (``@idempotent`` or ``@idempotent(replay=...)``).

    Without the header the view runs as usual. With it: the first request runs the view and
    stores its answer, sealed; a retry with the same key and body gets that answer again with
    ``Idempotency-Replayed: true`` and writes nothing; the same key with a different request
    is 422; the same key while the first request still runs is 409. A malformed key is 400.
    """
    if post is None:
        return functools.partial(idempotent, replay=replay)

    @functools.wraps(post)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return post(view, request, *args, **kwargs)
        if not KEY_RE.match(key):
            raise ValidationFailed(
                _("Invalid %(header)s.") % {"header": HEADER},
                errors={HEADER: [_("Must be 1 to 255 printable ASCII characters.")]},
            )
        fingerprint = request_fingerprint(
            method=request.method or "POST", path=request.path, data=request.data
        )
        record = _claim(
            user=request.user,
            key=key,
            method=request.method or "POST",
            path=request.path,
            fingerprint=fingerprint,
        )
        if isinstance(record, IdempotencyRecord) and record.state == IdempotencyRecord.State.DONE:
            return _replay(record, replay, view, request, *args, **kwargs)
        return _run(post, record, view, request, *args, **kwargs)

    return extend_schema(parameters=[KEY_PARAMETER])(wrapper)


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete records older than the retention period; returns how many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CONTINUUM_IDEMPOTENCY_RETENTION_DAYS)
    deleted, _counts = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- internals -----------------------------------------------------------------------------


def _claim(*, user, key: str, method: str, path: str, fingerprint: str) -> IdempotencyRecord:
    """The new in-progress record this request owns, or the done record to replay."""
    for _attempt in range(_CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path[:300],
                    request_fingerprint=fingerprint,
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # the first request failed and released the key meanwhile: claim again
        if existing.request_fingerprint != fingerprint:
            raise KeyReused(
                f"This {HEADER} was used for a different request.",
                errors={HEADER: ["reused with a different request"]},
            )
        if existing.state == IdempotencyRecord.State.DONE:
            return existing
        if _take_over_abandoned(existing):
            return existing
        raise _in_progress()
    raise _in_progress()


def _take_over_abandoned(record: IdempotencyRecord) -> bool:
    now = timezone.now()
    if record.created_at > now - ABANDONED_AFTER:
        return False
    # Conditional update: of two retries racing for an abandoned claim, exactly one wins.
    won = IdempotencyRecord.objects.filter(
        pk=record.pk,
        state=IdempotencyRecord.State.IN_PROGRESS,
        created_at=record.created_at,
    ).update(created_at=now)
    return won == 1


def _run(
    post: PostHandler,
    record: IdempotencyRecord,
    view: APIView,
    request: Request,
    *args: Any,
    **kwargs: Any,
) -> Response:
    try:
        with transaction.atomic():
            response = post(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            else:
                _store(record, response, request)
    except Exception as exc:  # noqa: BLE001 - the record must go whatever the view raised
        try:
            response = view.handle_exception(exc)
        except BaseException:
            _release(record)
            raise
        if response.status_code >= 500:
            _release(record)
        else:
            try:
                with transaction.atomic():
                    _store(record, response, request)
            except DatabaseError:
                # An answer the database cannot keep: nothing was written, so the key is
                # free again rather than "in progress" until ABANDONED_AFTER.
                _release(record)
        return response
    if response.status_code >= 500:
        _release(record)
    return response


def _replay(
    record: IdempotencyRecord,
    replay: ReplayHandler | None,
    view: APIView,
    request: Request,
    *args: Any,
    **kwargs: Any,
) -> Response:
    headers = {REPLAYED_HEADER: "true"}
    body = None
    if record.response_sealed is not None:
        opened = _the_vault().open(
            record_id=record.pk,
            subject=record.subject,
            key_ref=record.response_key_ref,
            blob=bytes(record.response_sealed),
        )
        if opened is not None:
            return Response(json.loads(opened), status=record.response_status, headers=headers)
    elif record.response_key_ref != SHREDDED:
        # Nothing was sealed because there was no body (or it predates sealing).
        return Response(body, status=record.response_status, headers=headers)
    if replay is not None:
        response = replay(view, request, record.resource, record.response_status, *args, **kwargs)
        response.status_code = record.response_status
        response[REPLAYED_HEADER] = "true"
        return response
    return Response(
        {"id": record.resource or None, "erased": True},
        status=record.response_status,
        headers=headers,
    )


def _store(record: IdempotencyRecord, response: Response, request: Request) -> None:
    data = getattr(response, "data", None)
    subject = getattr(request, "_idempotency_subject", "")
    sealed, key_ref = None, ""
    if data is not None:
        # Sealed exactly as the client will read it: UUIDs, dates and decimals as JSON text.
        key_ref, sealed = _the_vault().seal(
            record_id=record.pk, subject=subject, body=JSONRenderer().render(data)
        )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        response_status=response.status_code,
        response_sealed=sealed,
        response_key_ref=key_ref,
        subject=subject,
        resource=getattr(request, "_idempotency_resource", ""),
    )


def _release(record: IdempotencyRecord) -> None:
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS
        ).delete()
