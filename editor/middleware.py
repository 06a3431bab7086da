"""Refuse request bodies over ``NETLAB_MAX_BODY_BYTES`` before anything reads them.

Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when something reads it,
and then as a bare 400 (or, in the API, as whatever the reader makes of the exception).
Checked here, before any view or the CSRF check reads it, a body that announces its size
answers 413 with a sentence: JSON under ``/api/``, a page elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def too_large_message() -> str:
    """The sentence that refuses a body over the limit."""
    limit = settings.NETLAB_MAX_BODY_BYTES
    return f"the request body is larger than this server accepts ({limit} bytes)"


def _announced_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # not a number: Django itself reads such a body as empty
        return 0


class BodyLimitMiddleware:
    """Answer 413 to a request whose ``Content-Length`` is over the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _announced_length(request) <= settings.NETLAB_MAX_BODY_BYTES:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": too_large_message(), "problems": []}, status=413)
        return render(
            request,
            "editor/problem.html",
            {"heading": "Too large", "message": too_large_message()},
            status=413,
        )
