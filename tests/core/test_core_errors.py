"""One shape for a refused input (app/core/errors.py): English message, field, translated text."""
import pytest

from app.accounts.service import AccountError
from app.core import i18n
from app.core.errors import InputError
from app.petitions.service import PetitionError
from app.program.service import TaskError


@pytest.fixture
def vietnamese():
    before = i18n.current_language()
    i18n.set_language("vi")
    yield
    i18n.set_language(before)


def test_petition_error_keeps_field_status_and_fills_the_vietnamese_text(vietnamese):
    e = PetitionError("The name is too long (at most {n} characters).", "name", n=120)
    assert isinstance(e, InputError)
    assert (e.field, e.status, e.params) == ("name", 422, {"n": 120})
    assert str(e) == "The name is too long (at most 120 characters)."
    assert e.text() == "Tên quá dài (tối đa 120 ký tự)."


def test_task_and_account_errors_share_the_shape(vietnamese):
    t = TaskError("bad_status", "Choose not started, in progress or done.", "status")
    a = AccountError("Write the expiry date as dd/mm/yyyy, e.g. 31/12/2024.", "expires_on")
    assert isinstance(t, InputError) and isinstance(a, InputError)
    assert (t.code, t.field, t.message) == ("bad_status", "status", "Choose not started, in progress or done.")
    assert a.field == "expires_on"
    assert a.text() == "Hãy viết ngày hết hạn theo dạng ngày/tháng/năm, ví dụ 31/12/2024."
