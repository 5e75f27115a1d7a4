"""The French catalogue: complete, compiled, in step with the sources, and actually used.

The catalogue is checked as files (every message translated, the committed .mo
built from the .po, every string of the sources in it) and through the app
(pages, validation errors, API errors and emails in French).
"""

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import DataRequest
from tests.conftest import csrf_token, outbox_messages

#: translations of pages: the database is incidental
pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "dsr" / "translations"
PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.mo"
#: the keywords the project extracts with (`pybabel extract -k _l -k lazy_gettext`)
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
NBSP = "\u00a0"

#: the right of access, as the index page titles it in each language
ACCESS_TITLE = {"fr": "Accéder à mes données", "en": "Access my data"}
BAD_EMAIL = {
    "fr": "Saisissez une adresse e-mail valide, par exemple nom@example.com.",
    "en": "Enter a valid email address, such as name@example.com.",
}
UPDATE = "run pybabel extract/update (see the i18n notes) and translate the new strings"
COMPILE = "run pybabel compile -d dsr/translations"


def read_catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="fr")


def messages(catalog):
    """The catalogue's messages, without its header."""
    return [message for message in catalog if message.id]


def key(msgid) -> str:
    """A message's lookup key: the singular of a plural message."""
    return msgid[0] if isinstance(msgid, tuple) else msgid


# --- the files ------------------------------------------------------------------


def test_the_catalogue_is_french_with_french_plurals():
    catalog = read_catalog()
    assert str(catalog.locale) == "fr"
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n>1)"


def test_every_message_is_translated_and_none_is_fuzzy():
    catalog = read_catalog()
    untranslated = [
        key(m.id)
        for m in messages(catalog)
        if not m.string or (isinstance(m.string, tuple) and not all(m.string))
    ]
    fuzzy = [key(m.id) for m in messages(catalog) if m.fuzzy]
    assert len(messages(catalog)) > 200
    assert untranslated == [], f"untranslated: {untranslated}"
    assert fuzzy == [], f"fuzzy: {fuzzy}"
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"


def test_plural_messages_have_every_form():
    plurals = [m for m in messages(read_catalog()) if m.pluralizable]
    assert plurals, "the sources use ngettext / {% pluralize %}"
    for message in plurals:
        assert len(message.string) == 2 and all(message.string), message.id


def placeholders(text: str, brace: bool) -> set[str]:
    """The %(name)s / %d or {name} placeholders of a message."""
    if brace:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    return set(re.findall(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]", text))


@pytest.mark.parametrize("brace", [False, True], ids=["python-format", "brace-format"])
def test_translations_keep_the_placeholders(brace):
    flag = "python-brace-format" if brace else "python-format"
    for message in messages(read_catalog()):
        if flag not in message.flags:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = placeholders(ids[-1], brace)
        for translated in strings:
            assert placeholders(translated, brace) == expected, (message.id, translated)


def test_babel_checkers_find_no_error():
    errors = [(key(m.id), [str(e) for e in errs]) for m, errs in read_catalog().check()]
    assert errors == []


def compiled_messages(fileobj) -> dict:
    """A compiled catalogue's messages: context, id, string and plural forms of each.

    Not its header, which names the version of Babel that compiled it: a version that
    nothing pins must not make a catalogue stale.
    """
    return {(m.context, hashable(m.id)): hashable(m.string) for m in read_mo(fileobj) if m.id}


def hashable(text):
    """A message's id or string; the forms of a plural one as a tuple."""
    return tuple(text) if isinstance(text, list) else text


def test_the_committed_mo_is_compiled_from_the_po():
    assert MO.exists(), f"{MO} is missing: {COMPILE}"
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog())
    buffer.seek(0)
    with MO.open("rb") as fh:
        committed = compiled_messages(fh)
    compiled = compiled_messages(buffer)
    assert len(compiled) > 200
    assert committed == compiled, f"messages.mo is stale: {COMPILE}"


def extracted_messages() -> dict[str, str]:
    """Every message of the sources, as `pybabel extract -F babel.cfg` finds it: msgid -> file."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(key(message), filename)
    return found


def test_the_catalogue_covers_every_string_of_the_sources():
    found = extracted_messages()
    files = set(found.values())
    # the extraction sees each kind of source, so an empty result cannot pass silently
    for prefix in ("dsr/", "workflows/", "templates/public/", "templates/email/"):
        assert any(f.startswith(prefix) for f in files), f"nothing extracted from {prefix}"
    assert any(f.endswith(".txt") for f in files) and any(f.endswith(".html") for f in files)
    known = {key(m.id) for m in messages(read_catalog())}
    missing = {msgid: where for msgid, where in found.items() if msgid not in known}
    assert missing == {}, f"strings missing from the French catalogue ({UPDATE}): {missing}"


def test_the_compiled_catalogue_uses_french_plural_rules():
    with MO.open("rb") as fh:
        translations = Translations(fp=fh)
    one, many = "The link expires in %(num)d hour.", "The link expires in %(num)d hours."
    assert translations.ngettext(one, many, 0) % {"num": 0} == "Le lien expire dans 0 heure."
    assert translations.ngettext(one, many, 1) % {"num": 1} == "Le lien expire dans 1 heure."
    assert translations.ngettext(one, many, 2) % {"num": 2} == "Le lien expire dans 2 heures."


# --- pages ----------------------------------------------------------------------


def page(client, url: str = "/", **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_index_follows_the_browser_language(client, language):
    text = page(client, **{"Accept-Language": language})
    assert f'<html lang="{language}">' in text
    assert ACCESS_TITLE[language] in text
    other = "en" if language == "fr" else "fr"
    assert ACCESS_TITLE[other] not in text


def test_the_french_index_speaks_of_rights_as_the_cnil_does(client):
    text = page(client, **{"Accept-Language": "fr"})
    assert "Vos droits sur vos données personnelles" in text
    assert f"Fondement juridique{NBSP}: art. 15 du RGPD" in text
    assert "Délégué à la protection des données (DPO)" in text
    assert "M&#39;opposer" in text or "M'opposer" in text


def test_french_is_the_default_without_accept_language(client):
    assert ACCESS_TITLE["fr"] in page(client)


def test_the_language_switch_is_remembered_for_the_session(client):
    assert ACCESS_TITLE["en"] in page(client, "/?lang=en", **{"Accept-Language": "fr"})
    later = page(client, "/requests/new?type=access", **{"Accept-Language": "fr"})
    assert '<html lang="en">' in later
    assert "Send my request" in later
    back = page(client, "/?lang=fr")
    assert ACCESS_TITLE["fr"] in back
    assert ACCESS_TITLE["fr"] in page(client, **{"Accept-Language": "en"})


# --- validation errors ----------------------------------------------------------

FORM = "/requests/new?type=access"


def test_a_form_error_is_shown_in_french(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    token = csrf_token(client, FORM)
    data = {"email": "not-an-address", "name": "Alice Martin", "csrf_token": token}
    response = client.post(FORM, data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert BAD_EMAIL["fr"] in text
    assert "Veuillez corriger les points suivants" in text
    assert BAD_EMAIL["en"] not in text
    with app.app_context():
        assert db.session.scalars(select(DataRequest)).first() is None


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_api_error_speaks_the_clients_language(client, language):
    body = {"type": "access", "email": "not-an-address", "name": "Alice Martin", "details": {}}
    response = client.post("/api/v1/requests", json=body, headers={"Accept-Language": language})
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    assert error["fields"]["email"] == [BAD_EMAIL[language]]
    if language == "fr":
        assert error["message"].startswith("La requête contient des erreurs")


# --- emails ---------------------------------------------------------------------


def test_the_confirmation_email_is_written_in_the_requests_language(app, client, run_jobs):
    body = {
        "type": "access",
        "email": "alice@example.com",
        "name": "Alice Martin",
        "details": {},
        "language": "fr",
    }
    # the client's own language is English: the request's language decides the email's
    response = client.post("/api/v1/requests", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.get_data(as_text=True)
    ref = response.get_json()["ref"]
    run_jobs()

    [message] = outbox_messages(app)
    assert message["Subject"] == f"Veuillez confirmer votre demande {ref}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Bonjour Alice Martin," in text
    assert f"Droit exercé{NBSP}: {ACCESS_TITLE['fr']}" in text
    assert "Pour confirmer que cette adresse vous appartient" in text
    hours = app.config["VERIFY_LINK_MAX_AGE"] // 3600
    assert f"pendant {hours} heure" in text
    assert "Hello" not in text and "To confirm" not in text


def test_the_openapi_document_stays_english_when_a_french_client_asks_first(client):
    """The document is built once and cached: its translatable parts must not follow the caller."""
    response = client.get("/api/v1/openapi.json", headers={"Accept-Language": "fr"})
    schemas = response.get_json()["components"]["schemas"]
    assert "(GDPR Art. 15)" in schemas["AccessDetails"]["description"]
    assert "RGPD" not in response.get_data(as_text=True)
