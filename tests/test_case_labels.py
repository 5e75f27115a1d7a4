"""The case page reads as the form asked: labels and choices in words, not codes."""

import html

import pytest
from fixtures_staff import new_case, staff_instance


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=staff_instance())


def case_page(client, ref: str) -> str:
    response = client.get(f"/staff/requests/{ref}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_a_choice_reads_as_the_form_offered_it(app, viewer_client):
    ref = new_case(app, type_="erasure", details={"ground": "no_longer_necessary"})
    page = case_page(viewer_client, ref)
    assert "Why you ask for this" in page
    assert "The data are no longer needed for their purpose" in page
    assert "no_longer_necessary" not in page


def test_an_objection_reads_its_basis_in_words(app, viewer_client):
    details = {"basis": "particular_situation", "processing": "SMS", "grounds": "I moved."}
    page = case_page(viewer_client, new_case(app, type_="objection", details=details))
    assert "What you object to" in page
    assert "Grounds relating to my particular situation (Art. 21(1))" in page
    assert "particular_situation" not in page
    assert "The grounds relating to your particular situation" in page and "I moved." in page


def test_corrections_read_as_a_table(app, viewer_client):
    changes = [
        {"field": "Postal address", "current_value": "1 rue A", "corrected_value": "2 rue B"},
        {"field": "Phone", "corrected_value": "+33 6 00 00 00 01"},
    ]
    page = case_page(
        viewer_client, new_case(app, type_="rectification", details={"changes": changes})
    )
    table = page.split("<caption>Corrections</caption>", 1)[1].split("</table>", 1)[0]
    for heading in (
        "Which data (for example: postal address)",
        "Value as we hold it",
        "Correct value",
    ):
        assert f'<th scope="col">{heading}</th>' in table
    assert '<td class="preserve">1 rue A</td><td class="preserve">2 rue B</td>' in table
    assert '<td class="preserve">—</td>' in table  # the second has no current value
    assert '"corrected_value"' not in page and "{" not in table


def test_consent_purposes_and_dates_read_in_words(app, viewer_client):
    ref = new_case(app, type_="consent_withdrawal", details={"purposes": ["email_newsletter"]})
    page = case_page(viewer_client, ref)
    assert "What you withdraw your consent for" in page
    assert "Email you our newsletter and offers" in page
    assert "email_newsletter" not in page.split("</dl>", 1)[0]
    notice = {
        "mode": "death_notice",
        "requester_role": "heir",
        "deceased_name": "Jean Martin",
        "date_of_death": "2026-01-05",
    }
    page = case_page(viewer_client, new_case(app, type_="post_mortem", details=notice))
    assert "I am an heir" in page and "January 5, 2026" in page and "2026-01-05" not in page


def test_the_language_reads_as_its_name(app, viewer_client):
    page = case_page(viewer_client, new_case(app))
    assert "<dt>Language</dt><dd>English</dd>" in page
    viewer_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = case_page(viewer_client, new_case(app))
    assert "<dd>Anglais</dd>" in page
