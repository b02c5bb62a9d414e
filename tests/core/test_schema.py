"""The OpenAPI document says what the API does: page envelopes for every paged list, one
Error schema on every error answer, strict bodies closed, a tag per app and a summary."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

PAGED_LISTS = [
    "/api/v1/people/",
    "/api/v1/people/{person_id}/consents/",
    "/api/v1/contacts/",
    "/api/v1/referrals/",
    "/api/v1/notifications/",
    "/api/v1/organizations/",
    "/api/v1/services/",
    "/api/v1/locations/",
    "/api/v1/conferences/",
    "/api/v1/audit/events/",
    "/api/v1/auth/tokens/",
    "/api/v1/emergency-accesses/",
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


@pytest.mark.parametrize("path", PAGED_LISTS)
def test_every_paged_list_is_documented_as_a_page(schema, path):
    ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    page = _resolve(schema, ok["schema"])
    assert set(page["properties"]) >= {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"


def test_every_operation_documents_its_errors_with_the_error_schema(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code", "errors"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            for status in ("400", "401", "404"):
                assert status in responses, (method, path, status)
            if "requestBody" in operation:
                assert "415" in responses, (method, path)
            for status, answer in responses.items():
                if status >= "400":
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, status)
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                assert {"409", "422"} <= set(responses), (method, path)
            assert operation.get("summary"), (method, path)
            assert operation["tags"][0] in {"directory", "referrals", "coordination", "audit"}
    assert "429" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_strict_bodies_are_closed_and_carry_the_text_rule(schema):
    components = schema["components"]["schemas"]
    for name in ("PersonInputRequest", "ContactInputRequest", "ReferralInputRequest"):
        assert components[name]["additionalProperties"] is False, name
    display_name = components["PersonInputRequest"]["properties"]["display_name"]
    assert "\\u0000" in display_name["pattern"]
