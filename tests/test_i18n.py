"""The eight languages: the language each request is answered in, pages with no English
left, Arabic right to left, API errors, notifications in the reader's language, times in
the task force's zone, and catalogues complete in every language."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from core.translations import catalogue_path
from referral.models import Notification, ReferralStatus
from referral.services.referrals import referral_create, referral_transition
from services_directory.models import Membership, OrganizationKind, Role, Stage
from services_directory.services import membership_language_set
from tests.conftest import services_required
from tests.factories import (
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    member,
    person_create_for,
)

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]")


# --- what English a page still shows -----------------------------------------------------


class _Text(HTMLParser):
    """The text a person reads: text nodes outside scripts and styles, and the attributes a
    screen reader or a hover reads."""

    READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1
        for name, value in attrs:
            if name in self.READ_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


@cache
def _english_msgids(language: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The English catalogue's strings that ``language`` says otherwise: whole strings (to
    match a text node exactly) and the fixed parts of long ones (to find inside text)."""
    english = polib.pofile(str(catalogue_path("en", "django")))
    catalogue = polib.pofile(str(catalogue_path(language, "django")))
    own_words = {e.msgstr for e in catalogue if e.msgstr} | {
        text for e in catalogue for text in e.msgstr_plural.values()
    }
    whole, pieces = set(), []
    for entry in english:
        for text in filter(None, (entry.msgid, entry.msgid_plural)):
            if text in own_words:
                continue  # the language's own word is the same (Continuum, ONG/NGO...)
            fixed = [p.strip(" .:,") for p in PLACEHOLDER.split(text)]
            if len(fixed) == 1:
                whole.add(text)
            pieces.extend(p for p in fixed if len(p) >= 16)
    return frozenset(whole), tuple(pieces)


def english_left(html: str, language: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    whole, pieces = _english_msgids(language)
    found = [part for part in parser.parts if part in whole]
    text = " | ".join(parser.parts)
    found += [piece for piece in pieces if piece in text]
    return found


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- a task force in Lisbon, its names in no language's catalogue -------------------------


@pytest.fixture
def lisbon():
    from types import SimpleNamespace

    police = OrganizationFactory(name="Esquadra Alfama", kind=OrganizationKind.POLICE)
    clinic = OrganizationFactory(name="Clínica Ponte", kind=OrganizationKind.TREATMENT)
    office = OrganizationFactory(name="Gabinete Lx", kind=OrganizationKind.MUNICIPALITY)
    task_force = TaskForceFactory(
        name="Lisboa Teste", time_zone="Europe/Lisbon", organizations=[police, clinic, office]
    )
    service = ServiceFactory(
        organization=clinic,
        name="Ponte Tratamento",
        stage=Stage.TREATMENT,
        description="Consulta Ponte.",
    )
    officer = member(organization=police, role=Role.OFFICER, username="agente-lx")
    provider = member(organization=clinic, role=Role.PROVIDER, username="clinica-lx")
    coordinator = member(organization=office, role=Role.COORDINATOR, username="gabinete-lx")
    person = person_create_for(officer, display_name="Z.Q.", given_name="Zé")
    referral, _ = referral_create(
        sender=officer, service=service, pathway="officer_intervention", person=person
    )
    due = (timezone.now() - timedelta(days=2)).replace(
        month=7, day=1, hour=10, minute=0, second=0, microsecond=0
    )
    if due > timezone.now():
        due = due.replace(year=due.year - 1)
    type(referral).objects.filter(pk=referral.pk).update(
        created_at=due - timedelta(hours=48),
        status_changed_at=due - timedelta(hours=48),
        sla_due_at=due,
    )
    referral.refresh_from_db()
    return SimpleNamespace(
        task_force=task_force,
        service=service,
        officer=officer,
        provider=provider,
        coordinator=coordinator,
        referral=referral,
        due=due,
    )


# --- which language -----------------------------------------------------------------------


def test_accept_language_sets_the_page_language_and_arabic_reads_right_to_left(client):
    html = html_of(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert '<html lang="ar" dir="rtl"' in html
    html = html_of(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="pt-PT,pt;q=0.9"))
    assert '<html lang="pt" dir="ltr"' in html
    html = html_of(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de,ja"))
    assert '<html lang="en" dir="ltr"' in html  # none of ours: the default


def test_the_members_choice_wins_and_the_switcher_keeps_it(client, lisbon):
    # given a member whose browser asks for French
    client.force_login(lisbon.officer)
    # when they choose Swahili with the switcher (a plain form post, no script)
    response = client.post(
        "/i18n/setlang/", {"language": "sw", "next": "/referrals/new/"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    # then it is kept on their membership and their pages are in Swahili
    assert response.status_code == 302 and response["Location"] == "/referrals/new/"
    assert Membership.objects.get(user=lisbon.officer).language == "sw"
    client.cookies.clear()  # another device: no cookie, the membership remembers
    client.force_login(lisbon.officer)
    html = html_of(client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert '<html lang="sw"' in html
    # every page has the switcher, the current language chosen
    assert 'action="/i18n/setlang/"' in html and '<option value="sw" lang="sw" selected>' in html


def test_without_a_choice_or_a_header_the_task_force_default_applies(client, lisbon):
    type(lisbon.task_force).objects.filter(pk=lisbon.task_force.pk).update(default_language="pt")
    client.force_login(lisbon.provider)
    html = html_of(client.get(f"/referrals/{lisbon.referral.pk}/"))
    assert '<html lang="pt"' in html


def test_an_unknown_language_is_refused_by_the_service(lisbon):
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        membership_language_set(user=lisbon.officer, language="xx")


# --- no English left ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_four_pages_have_no_english_left(client, lisbon, language):
    pages = {}
    pages["login"] = html_of(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language))
    client.force_login(lisbon.officer)
    pages["contact"] = html_of(client.get("/contacts/new/", HTTP_ACCEPT_LANGUAGE=language))
    client.force_login(lisbon.provider)
    pages["referral"] = html_of(
        client.get(f"/referrals/{lisbon.referral.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    )
    client.force_login(lisbon.coordinator)
    pages["board"] = html_of(client.get("/board/", HTTP_ACCEPT_LANGUAGE=language))
    assert "Z.Q." in pages["board"] and "Ponte Tratamento" in pages["referral"]
    for name, html in pages.items():
        direction = "rtl" if language in settings.LANGUAGES_BIDI else "ltr"
        assert f'<html lang="{language}" dir="{direction}"' in html, name
        assert english_left(html, language) == [], f"{language} {name} page"


def test_the_check_finds_english_when_a_language_is_missing(client, lisbon):
    # the comparison itself: an English page against the Spanish catalogue finds English
    html = html_of(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Sign in" in english_left(html, "es")


# --- API errors -----------------------------------------------------------------------------


def test_an_api_400_in_spanish(client_for, lisbon):
    api = client_for(lisbon.officer)
    response = api.post("/api/v1/referrals/", {}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"  # codes stay as they are
    assert body["detail"].startswith("Datos no válidos:")
    assert "Este campo es requerido." in sum(body["errors"].values(), [])  # DRF's own
    response = api.get("/api/v1/services/?colour=red", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert response.json()["errors"]["colour"][0].startswith("Parámetro desconocido.")
    assert response["Content-Language"] == "es"


def test_a_domain_error_in_the_language_asked_for(client_for, lisbon):
    api = client_for(lisbon.provider)
    response = api.post(
        f"/api/v1/referrals/{lisbon.referral.pk}/transition/",
        {"to": "forwarded"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["detail"] == "Une orientation à l'état sent ne peut pas devenir forwarded."


# --- notifications --------------------------------------------------------------------------


def test_a_notification_made_in_english_reads_in_portuguese(client, lisbon):
    # given a notification made while English was the language of the request
    with translation.override("en"):
        referral_transition(
            referral=lisbon.referral, actor=lisbon.provider, to=ReferralStatus.ACCEPTED
        )
    notification = Notification.objects.get(
        referral=lisbon.referral, organization=lisbon.officer.membership.organization
    )
    assert notification.code == "referral_status" and notification.legacy_message == ""
    with translation.override("en"):
        assert notification.message == "Your referral to Ponte Tratamento is now accepted."
    # when a Portuguese reader opens their notifications (page and API)
    membership_language_set(user=lisbon.officer, language="pt")
    client.force_login(lisbon.officer)
    html = html_of(client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en"))
    # then
    expected = "O estado do seu encaminhamento para Ponte Tratamento é agora: aceite."
    assert expected in html
    assert notification.text("pt") == expected


def test_the_email_goes_out_in_each_recipients_language(lisbon, django_capture_on_commit_callbacks):
    membership_language_set(user=lisbon.officer, language="el")
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        referral_transition(
            referral=lisbon.referral, actor=lisbon.provider, to=ReferralStatus.ACCEPTED
        )
    to_officer = [m for m in mail.outbox if m.to == [lisbon.officer.email]]
    assert to_officer, [m.to for m in mail.outbox]
    assert "Η κατάσταση της παραπομπής σας στο Ponte Tratamento" in to_officer[0].subject
    assert "Continuum" in to_officer[0].body


def test_an_old_english_notification_stays_readable_and_is_read_back_into_a_code():
    from importlib import import_module

    migration = import_module("referral.migrations.0017_notification_code_params")
    assert migration.coded("Your referral to Casa X is now disengaged (lost to follow-up).") == (
        "referral_status",
        {"service": "Casa X", "status": "disengaged"},
    )
    code, params = migration.coded(
        "A referral to Casa X expired unanswered after its SLA (due 2026-07-01 10:00 UTC)."
    )
    assert code == "referral_expired" and params["due_at"].startswith("2026-07-01T10:00")
    assert migration.coded("Something else entirely.") is None
    legacy = Notification(legacy_message="Something else entirely.")
    assert legacy.message == "Something else entirely."


# --- times and numbers -----------------------------------------------------------------------


def test_a_time_on_the_board_is_in_europe_lisbon(client, lisbon):
    client.force_login(lisbon.coordinator)
    html = html_of(client.get("/board/", HTTP_ACCEPT_LANGUAGE="en"))
    local = lisbon.due.astimezone(ZoneInfo("Europe/Lisbon"))
    assert local.utcoffset() == timedelta(hours=1)  # 1 July: summer time, UTC+1
    assert f"{local.day} Jul {local.year}, 11:00" in html
    assert "(Europe/Lisbon)" in html
    # and in the language's own format: Portuguese writes the day first, numerically
    html = html_of(client.get("/board/", HTTP_ACCEPT_LANGUAGE="pt"))
    assert f"01/07/{local.year} 11:00" in html


def test_a_members_pages_show_times_in_the_task_forces_zone_and_the_api_keeps_utc(
    client, client_for, lisbon
):
    client.force_login(lisbon.provider)
    html = html_of(client.get(f"/referrals/{lisbon.referral.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"{lisbon.due.day} Jul {lisbon.due.year}, 11:00" in html  # answer due, Lisbon
    body = client_for(lisbon.provider).get(f"/api/v1/referrals/{lisbon.referral.pk}/").json()
    assert body["sla_due_at"].startswith(lisbon.due.strftime("%Y-%m-%dT10:00"))


def test_the_coordinators_expiry_notice_is_in_the_task_forces_time_zone(lisbon):
    from coordination.expiry import referral_expire

    assert referral_expire(referral_id=lisbon.referral.pk)
    told = Notification.objects.get(
        referral=lisbon.referral, organization=lisbon.coordinator.membership.organization
    )
    with translation.override("en"):
        assert "(Europe/Lisbon)" in told.message and "11:00" in told.message
        assert "UTC" not in told.message


# --- the catalogues -------------------------------------------------------------------------


def test_every_marked_string_is_translated_in_every_language():
    call_command("check_translations")


def test_the_code_marks_no_string_the_catalogues_lack():
    if shutil.which("xgettext") is None:
        if services_required():
            pytest.fail("xgettext (GNU gettext) is needed to extract the marked strings")
        pytest.skip("needs GNU gettext's xgettext (apt-get install gettext)")
    call_command("check_translations", "--extract")


def test_the_javascript_catalogue_answers_in_the_language(client):
    response = client.get("/i18n/js/", HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 200
    assert "Contatto salvato su questo telefono" in response.content.decode()


def test_drfs_own_messages_in_swahili_too(client_for, lisbon):
    # DRF ships no Swahili: its messages come from our catalogue
    response = client_for(lisbon.officer).post(
        "/api/v1/referrals/", {}, format="json", HTTP_ACCEPT_LANGUAGE="sw"
    )
    assert response.status_code == 400
    assert "Sehemu hii inahitajika." in sum(response.json()["errors"].values(), [])


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_dashboard_and_the_directory_have_no_english_left(client, lisbon, language):
    client.force_login(lisbon.coordinator)
    for page in ("/dashboard/", "/directory/", "/notifications/"):
        html = html_of(client.get(page, HTTP_ACCEPT_LANGUAGE=language))
        assert english_left(html, language) == [], f"{language} {page}"
