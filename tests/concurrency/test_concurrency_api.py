"""Optimistic concurrency on the API: GET gives each figure's version; an imported row may
carry it; a stale one refuses the whole batch with 409 listing the row and the current figure."""
import pytest

from tests.api_support import assert_problem, bearer, count_values, make_token, stored

URL = "/api/v1/data-values"


@pytest.fixture
def api(client, db):
    return bearer(client, make_token(db, "141"))


def _row(value: int, version: int | None = None, period: str = "2023-04") -> dict:
    row = {"orgUnit": "04720", "dataElement": "CT17", "period": period, "value": value}
    if version is not None:
        row["version"] = version
    return row


def test_list_data_values_gives_version(api):
    assert api.post(URL, json={"dataValues": [_row(2)]}).status_code == 200
    assert api.post(URL, json={"dataValues": [_row(3)]}).status_code == 200
    r = api.get(URL, params={"unit": "04720", "indicator": "CT17"})
    assert r.status_code == 200
    assert [(d["value"], d["version"]) for d in r.json()["data"]] == [(3, 2)]


def test_import_stale_version_refuses_whole_batch_409_with_current(api, db):
    assert api.post(URL, json={"dataValues": [_row(2)]}).status_code == 200  # version 1
    assert api.post(URL, json={"dataValues": [_row(4)]}).status_code == 200  # version 2, newer
    before = count_values(db)
    # A system read version 1 (value 2) and sends 3, with a new May figure in the same batch.
    r = api.post(URL, json={"dataValues": [_row(3, version=1), _row(1, version=0, period="2023-05")]})
    body = assert_problem(r, 409)
    assert [(x["index"], x["code"], x["current"]["value"], x["current"]["version"])
            for x in body["rejected"]] == [(0, "conflict", 4, 2)]
    assert stored(db, "04720", "CT17", "2023-04").value == 4  # the newer figure stays
    assert stored(db, "04720", "CT17", "2023-05") is None  # nothing of the batch was written
    assert count_values(db) == before


def test_import_current_version_updates(api, db):
    api.post(URL, json={"dataValues": [_row(2)]})
    r = api.post(URL, json={"dataValues": [_row(3, version=1)]})
    assert r.status_code == 200 and r.json()["updated"] == 1
    dv = stored(db, "04720", "CT17", "2023-04")
    assert (dv.value, dv.version) == (3, 2)


def test_import_version_zero_for_a_figure_created_meanwhile_conflicts(api, db):
    api.post(URL, json={"dataValues": [_row(2)]})
    body = assert_problem(api.post(URL, json={"dataValues": [_row(5, version=0)]}), 409)
    assert body["rejected"][0]["code"] == "conflict" and body["rejected"][0]["current"]["value"] == 2


def test_import_without_version_last_writer_wins(api, db):
    api.post(URL, json={"dataValues": [_row(2)]})
    api.post(URL, json={"dataValues": [_row(4)]})
    assert api.post(URL, json={"dataValues": [_row(3)]}).status_code == 200
    assert stored(db, "04720", "CT17", "2023-04").value == 3


def test_import_csv_version_column_checked(api, db):
    api.post(URL, json={"dataValues": [_row(2)]})
    api.post(URL, json={"dataValues": [_row(4)]})
    csv = "orgUnit,dataElement,period,value,version\n04720,CT17,2023-04,3,1\n"
    body = assert_problem(api.post(URL, content=csv.encode(), headers={"Content-Type": "text/csv"}), 409)
    assert (body["rejected"][0]["line"], body["rejected"][0]["code"]) == (2, "conflict")
    assert stored(db, "04720", "CT17", "2023-04").value == 4


def test_import_stale_version_with_another_bad_row_is_422_listing_both(api, db):
    api.post(URL, json={"dataValues": [_row(2)]})
    api.post(URL, json={"dataValues": [_row(4)]})
    body = assert_problem(api.post(URL, json={"dataValues": [_row(3, version=1), _row(-1, period="2023-05")]}), 422)
    assert [x["code"] for x in body["rejected"]] == ["conflict", "negative"]
