"""The Continuum taxonomy: Continuum's own fields as HSDS ``attributes``.

HSDS 3.0 says how a record carries what the standard has no field for: an ``attribute``
linking the record to a ``taxonomy_term`` of a published taxonomy, with an optional
``value``. Continuum publishes one taxonomy (served by ``/api/v1/hsds/taxonomies/`` and
``/taxonomy_terms/``) with these terms:

- ``stage`` and one child per stage (``stage.treatment``, ...): a service's continuum stage;
  an unclassified service has none.
- ``organization_kind`` and one child per kind: an organisation's kind.
- ``accepting_referrals`` (value ``true``/``false``), ``capacity_available`` (a whole number)
  and ``referral_sla_hours`` on services; ``time_zone`` (an IANA name) on locations and
  schedules; ``phone_extension`` (text) on a phone whose extension is not a plain number.

Ids are uuid5 in ``HSDS_NAMESPACE``, so they never change between servers or releases.

``stage_from_terms`` reads a stage from *another* taxonomy's terms (Open Eligibility, the
AIRS/211 LA taxonomy, ...) through ``STAGE_TERMS``, extended by the operator's
``CONTINUUM_HSDS_STAGE_TERMS`` setting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from services_directory.models import OrganizationKind, Stage

HSDS_NAMESPACE = uuid.UUID("6f1c3c1e-4c7e-5a57-9a53-6b1f0b1e7a10")
TAXONOMY_ID = uuid.uuid5(HSDS_NAMESPACE, "taxonomy:continuum")
TAXONOMY_NAME = "Continuum"


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    description: str
    parent: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(HSDS_NAMESPACE, f"taxonomy_term:continuum:{self.code}")


def _terms() -> list[Term]:
    terms = [
        Term("stage", "Continuum stage", "The stage of the continuum of care a service serves."),
    ]
    terms += [
        Term(f"stage.{value}", str(label), f"Stage of the continuum of care: {label}.", "stage")
        for value, label in Stage.choices
    ]
    terms.append(Term("organization_kind", "Kind of organisation", "What kind of agency it is."))
    terms += [
        Term(f"organization_kind.{value}", str(label), f"Kind: {label}.", "organization_kind")
        for value, label in OrganizationKind.choices
    ]
    terms += [
        Term(
            "accepting_referrals",
            "Accepting referrals",
            "Whether the service takes referrals now; value true or false.",
        ),
        Term(
            "capacity_available",
            "Free places",
            "Free places now, a whole number; absent when not tracked.",
        ),
        Term(
            "referral_sla_hours",
            "Answer within (hours)",
            "Hours within which the service answers a referral, a whole number.",
        ),
        Term(
            "time_zone",
            "Time zone",
            "The IANA time zone (e.g. Europe/Lisbon) in which opening hours are kept; the "
            "HSDS timezone offset is this zone's offset when the record was written.",
        ),
        Term(
            "phone_extension",
            "Phone extension",
            "An extension that is not a plain number (HSDS types extensions as numbers).",
        ),
    ]
    return terms


TERMS: tuple[Term, ...] = tuple(_terms())
TERMS_BY_CODE: dict[str, Term] = {term.code: term for term in TERMS}
TERMS_BY_ID: dict[str, Term] = {str(term.id): term for term in TERMS}


def taxonomy_to_hsds() -> dict[str, Any]:
    return {
        "id": str(TAXONOMY_ID),
        "name": TAXONOMY_NAME,
        "description": "Continuum's fields for the continuum of care: stage, kind of "
        "organisation, referrals, capacity and time zones.",
        "version": "1",
    }


def term_to_hsds(term: Term) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(term.id),
        "code": term.code,
        "name": term.name,
        "description": term.description,
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": str(TAXONOMY_ID),
        "taxonomy_detail": taxonomy_to_hsds(),
        "language": "en",
    }
    if term.parent is not None:
        data["parent_id"] = str(TERMS_BY_CODE[term.parent].id)
    return data


def attribute(*, code: str, link_entity: str, link_id: Any, value: str = "") -> dict[str, Any]:
    """An HSDS attribute linking the record ``link_id`` to the Continuum term ``code``."""
    term = TERMS_BY_CODE[code]
    data: dict[str, Any] = {
        "id": str(uuid.uuid5(HSDS_NAMESPACE, f"attribute:{link_id}:{term.parent or code}")),
        "link_id": str(link_id),
        "link_type": term.parent or code,
        "link_entity": link_entity,
        "taxonomy_term_id": str(term.id),
        "taxonomy_term": term_to_hsds(term),
    }
    if value:
        data["value"] = value
    return data


# A stage for terms of other taxonomies. A key is a term code, matched on the code itself or
# as the parent of a dotted code (AIRS: "RX-8450" covers "RX-8450.8000"), or a term name,
# matched exactly; both without regard to case; the longest matching key wins.
STAGE_TERMS: dict[str, str] = {
    # AIRS / 211 LA County taxonomy
    "RX-8450": "treatment",  # Substance Use Disorder Treatment Programs
    "RX-8470": "recovery",  # Substance Use Disorders Support Services
    # Open Eligibility
    "addiction & recovery": "treatment",
    "detox": "treatment",
    "12-step": "recovery",
    "sober living": "recovery",
    "screening & exams": "screening",
    "housing": "social_support",
    "food": "social_support",
    # Plain names that feeds use whatever their taxonomy
    "harm reduction": "harm_reduction",
    "syringe services": "harm_reduction",
    "needle exchange": "harm_reduction",
    "naloxone": "harm_reduction",
    "street outreach": "outreach",
    "outreach": "outreach",
    "substance use disorder treatment": "treatment",
    "detoxification": "treatment",
    "drug testing": "screening",
    "recovery support": "recovery",
}


def stage_terms() -> dict[str, str]:
    """The built-in table with the operator's additions (``CONTINUUM_HSDS_STAGE_TERMS``)."""
    table = {key.lower(): stage for key, stage in STAGE_TERMS.items()}
    table.update({key.lower(): stage for key, stage in settings.CONTINUUM_HSDS_STAGE_TERMS.items()})
    return table


def stage_from_term(term: dict[str, Any], table: dict[str, str]) -> str | None:
    """The stage a foreign taxonomy term maps to, or None."""
    code = term.get("code")
    name = term.get("name")
    best: tuple[int, str] | None = None
    if isinstance(code, str) and code:
        code = code.lower()
        for key, stage in table.items():
            if (code == key or code.startswith(key + ".")) and (best is None or len(key) > best[0]):
                best = (len(key), stage)
    if best is None and isinstance(name, str):
        stage = table.get(name.strip().lower())
        if stage is not None:
            return stage
    return best and best[1]
