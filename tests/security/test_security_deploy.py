"""Production defaults of the container set-up: no default secrets, an unprivileged app user,
forwarded headers only from a configured proxy."""
import re

import yaml

from app.core.config import ROOT

SECRETS = ("POSTGRES_PASSWORD", "SECRET_KEY")


def _compose() -> str:
    return (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def test_compose_has_no_default_secret():
    # ${VAR:?message} makes `docker compose up` stop when VAR is unset or empty; ${VAR:-x} and
    # ${VAR-x} would fall back to x.
    uses = re.findall(r"\$\{(\w+)(:?[-?+]?)([^}]*)\}", _compose())
    for name, op, _rest in uses:
        if name in SECRETS:
            assert op == ":?", f"{name} must be required (${{{name}:?…}}), not {op!r}"
    assert {n for n, _op, _r in uses} >= set(SECRETS)


def test_compose_app_environment_refers_to_required_secrets():
    app_env = yaml.safe_load(_compose())["services"]["app"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in app_env["DATABASE_URL"]
    assert app_env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert app_env["ENVIRONMENT"] == "production" and app_env["SEED_DEMO_USERS"] == "false"


def test_dockerfile_runs_app_as_unprivileged_user():
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    cmd = next(ln for ln in lines if ln.startswith("CMD "))
    assert lines.index(next(ln for ln in lines if ln.startswith("USER "))) < lines.index(cmd)
    assert "--no-proxy-headers" in cmd  # the app, not uvicorn's default, decides whom to trust
