"""Every API error is JSON: {"error": "<a sentence>", "fields": {"<field>": ["<problem>", …]}} (fields only when
a field was wrong)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) if isinstance(value, (dict, list)) else str(value) for value in detail]
    return [str(detail)]


def handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": _flatten(exc.detail)}
        named = ", ".join(fields)
        response.data = {"error": f"The request was not valid: {named}.", "fields": fields}
    else:
        detail = getattr(exc, "detail", None)
        response.data = {"error": str(detail) if detail is not None else "Error."}
    return response
