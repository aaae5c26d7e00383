"""The OpenAPI document describes every API operation completely; /docs serves it."""
import pytest

RESOURCE_PATHS = [
    "/api/v1/units", "/api/v1/units/{code}", "/api/v1/programs", "/api/v1/programs/{year}",
    "/api/v1/indicators", "/api/v1/indicators/{code}", "/api/v1/tasks", "/api/v1/data-values",
    "/api/v1/rollups", "/api/v1/completeness", "/api/v1/audit", "/api/v1/data-values.csv",
    "/api/v1/data-values.xlsx", "/api/v1/rollups.csv", "/api/v1/rollups.xlsx",
]


@pytest.fixture
def document(client) -> dict:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(document: dict):
    for path in RESOURCE_PATHS:
        for method, op in document["paths"][path].items():
            yield f"{method.upper()} {path}", op


def test_openapi_lists_every_resource_path(document):
    assert set(RESOURCE_PATHS) <= set(document["paths"])


def test_openapi_operations_have_tags_summaries_and_a_200_schema(document):
    for name, op in _operations(document):
        assert op.get("tags") and op.get("summary"), name
        if "204" in op["responses"]:  # a delete answers no content
            continue
        content = op["responses"]["201" if "201" in op["responses"] else "200"]["content"]
        assert all("schema" in media for media in content.values()), name


def test_openapi_operations_declare_problem_responses(document):
    for name, op in _operations(document):
        for status in ("401", "422"):
            assert "application/problem+json" in op["responses"][status]["content"], (name, status)


def test_openapi_parameters_have_examples(document):
    for name, op in _operations(document):
        for p in op.get("parameters", []):
            assert "examples" in p or "example" in p or "examples" in p["schema"], (name, p["name"])


def test_openapi_import_body_has_json_and_csv_examples(document):
    body = document["paths"]["/api/v1/data-values"]["post"]["requestBody"]["content"]
    assert body["application/json"]["example"]["dataValues"][0]["orgUnit"] == "04720"
    assert body["text/csv"]["example"].startswith("orgUnit,dataElement,period,value,numerator,denominator")


def test_openapi_declares_the_bearer_scheme(document):
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for name, op in _operations(document):
        assert {"bearer": []} in op.get("security", []), name


def test_docs_page_is_served(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/openapi.json" in r.text
