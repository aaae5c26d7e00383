"""Petitions' words and who may do what: the channels, addressees and steps of an item, the
one error shape (`PetitionError`), and the permission rules written out in `app.petitions.service`.
"""
from typing import Any

from app.accounts.principal import Principal
from app.core.errors import InputError
from app.units.models import Unit

# The addressees a petition may be sent to, in the order of the Front's summaries.
ADDRESSEES = {
    "central_committee": "Central Committee of the Front",
    "na_delegation": "National Assembly delegation",
    "provincial_council": "Provincial People's Council",
    "department": "A provincial department",
    "local_authority": "A district or commune authority",
}
CHANNELS = {
    "voter_meeting": "Voter meeting",
    "office": "Citizen at the office",
    "unit_report": "A unit's report",
}
RAISER_KINDS = {"person": "A person", "group": "A group"}
RECEIVED, COMPILED, FORWARDED, ANSWERED, CLOSED = "received", "compiled", "forwarded", "answered", "closed"
ITEM_STEPS = (COMPILED, FORWARDED, ANSWERED, CLOSED)
STATUS_WORDS = {RECEIVED: "Received", COMPILED: "Compiled", FORWARDED: "Forwarded", ANSWERED: "Answered",
                CLOSED: "Closed"}
CONTENT_MAX = 5000
ANSWER_DAYS = 30  # default time an addressee has to answer, from the day the summary is sent

# Attached answers: the first bytes decide the type, never the name or the declared type.
FILE_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class PetitionError(InputError):
    """Input or a step that cannot be saved. `message` is English; `text()` is in the user's
    language. `status`: 422 bad input, 409 a step out of order or a frozen summary."""

    def __init__(self, message: str, field: str | None = None, status: int = 422, **params: Any) -> None:
        super().__init__(message, field, **params)
        self.status = status


# --- who may ---------------------------------------------------------------------------------

def sees_personal(principal: Principal, unit: Unit) -> bool:
    """Names and contacts: signed-in admins and editors of the receiving unit or above."""
    return principal.token is None and principal.role in ("admin", "editor") and principal.can_read(unit)


def can_record(principal: Principal, unit: Unit) -> bool:
    return principal.can_write(unit)


def can_compile(principal: Principal, unit: Unit) -> bool:
    if principal.token is not None:
        return principal.can_write(unit)
    return principal.role in ("admin", "editor") and principal.can_write(unit)


def can_edit_fields(principal: Principal) -> bool:
    """The list of fields is the province's: its administrators edit it."""
    return principal.token is None and principal.role == "admin" and principal.unit.depth == 0


def in_subtree(column: Any, unit: Unit) -> Any:
    return column.like(unit.path + "%")


