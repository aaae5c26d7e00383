"""The one shape of a refused input: an English message with {placeholders}, the form field it
belongs to, and the same message in the user's language.

Services raise a subclass (`TaskError`, `AccountError`, `PetitionError`); pages show `text()`
beside `field`, the API puts the English message in problem+json.
"""
from typing import Any

from app.core.i18n import _


class InputError(Exception):
    """Input that cannot be saved. `message` is an English msgid; `text()` is in the user's language."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message, self.field, self.params = message, field, params

    def text(self) -> str:
        return _(self.message, **self.params)
