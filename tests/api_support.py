"""Helpers for the API tests: bearer tokens made in the test database, figures, problem checks."""
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import ApiToken
from app.accounts.security import new_api_token
from app.program.models import Indicator
from app.units.models import Unit
from app.values.models import DataValue

PROBLEM = "application/problem+json"


def make_token(db: Session, unit_code: str, mode: str = "write") -> str:
    """Insert an API token scoped to `unit_code`'s subtree; return its secret."""
    secret, token_hash = new_api_token()
    unit = db.exec(select(Unit).where(Unit.code == unit_code)).one()
    db.add(ApiToken(name=f"test {unit_code} {mode}", unit_id=unit.id, mode=mode, token_hash=token_hash,
                    prefix=secret[:12]))
    db.commit()
    return secret


def bearer(client: TestClient, secret: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def assert_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text[:2000]
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


def stored(db: Session, unit_code: str, indicator_code: str, period: str) -> DataValue | None:
    return db.exec(select(DataValue).join(Unit, Unit.id == DataValue.unit_id)
                   .join(Indicator, Indicator.id == DataValue.indicator_id)
                   .where(Unit.code == unit_code, Indicator.code == indicator_code,
                          DataValue.period == period)).first()


def count_values(db: Session) -> int:
    from sqlalchemy import func

    return db.exec(select(func.count()).select_from(DataValue)).one()
