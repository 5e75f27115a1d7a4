"""What a person and a handler do in the browser, one method a step, for tests/test_browser.py.

Every page a step reaches is checked (`Audit.check`): axe-core finds no serious or
critical accessibility violation on it, and the browser's console shows no error (a
script or stylesheet the Content-Security-Policy refused, a script that failed). A new
decision on the case page is one `Handler.press(button, **fields)`; a new step of the
person's, a method of `Person` built on `goto`, `fill` and `press`.

Texts are written in English and looked up in the catalogue for the page's language,
so that a page in French is checked for its French words.
"""

import json
import re
import time
from pathlib import Path

from conftest import links_in_outbox
from flask_babel import force_locale, gettext

#: axe-core's impacts a page may not have
SEVERE = ("serious", "critical")
#: the rules of every WCAG 2.x A and AA criterion axe-core checks, plus its best practices
#: (only their serious and critical findings fail a page)
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary.split("\\n").join(" "))
  }));
}"""
REFERENCE = re.compile(r"DSR-\d{4}-\d{6}")
#: the code in a text message
CODE = re.compile(r"(?<![-\d])(\d{6})(?!\d)")


def translate(app, language: str, text, **values) -> str:
    """`text` (a string, or a lazy one such as a status title) as the catalogue says it in
    `language`."""
    with app.test_request_context(), force_locale(language):
        return gettext(text, **values) if isinstance(text, str) else str(text)


def label_text(label: str) -> re.Pattern:
    """The whole text of a label, with or without the mark of a required field."""
    return re.compile(rf"^\s*{re.escape(label)}(\s*\*)?\s*$")


def local_path(link: str) -> str:
    """The path and query of an absolute link from an email."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def new_link(app, marker: str, seen: int, seconds: float = 30) -> str:
    """The first link containing `marker` in the outbox after the `seen` ones, once an email
    brings it (the worker sends them)."""
    deadline = time.monotonic() + seconds
    while len(links := links_in_outbox(app, marker)) <= seen:
        assert time.monotonic() < deadline, f"no new {marker} link in the outbox"
        time.sleep(0.1)
    return links[seen]


def new_text_message(app, seen: int, seconds: float = 30) -> dict:
    """The first text message in the outbox after the `seen` ones, once the worker sends it."""
    deadline = time.monotonic() + seconds
    while len(messages := text_messages(app)) <= seen:
        assert time.monotonic() < deadline, "no new text message in the outbox"
        time.sleep(0.1)
    return messages[seen]


def text_messages(app) -> list[dict]:
    """The development SMS backend's messages, oldest first."""
    folder = Path(app.config["OUTBOX_DIR"])
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.sms.json"))]


class Audit:
    """The checks every page a step reaches must pass; `pages` lists what was checked."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.pages: list[str] = []
        self.console: list[str] = []

    def watch(self, page) -> None:
        """Collect the page's console errors and uncaught script errors from now on."""
        page.on("console", lambda m: m.type == "error" and self.console.append(m))
        page.on("pageerror", lambda error: self.console.append(str(error)))

    @staticmethod
    def unexpected(message, page_url: str) -> bool:
        """Whether a console error is one: the browser's own /favicon.ico (the app has
        none) and an error status of the page itself (a test opens error pages on
        purpose) are not."""
        if isinstance(message, str):
            return True
        url = message.location.get("url", "")
        return not (url.endswith("/favicon.ico") or url == page_url)

    def check(self, page) -> None:
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)  # through DevTools: the page's CSP does not apply
        violations = [v for v in page.evaluate(AXE_RUN) if v["impact"] in SEVERE]
        where = f"{page.title()} <{page.url}>"
        self.pages.append(where)
        assert not violations, f"axe-core on {where}:\n" + "\n".join(
            f"- {v['impact']} {v['id']} ({v['help']}): " + "; ".join(v["nodes"]) for v in violations
        )
        errors = [m for m in self.console if self.unexpected(m, page.url)]
        self.console.clear()
        assert not errors, f"console errors on {where}: " + "; ".join(
            m if isinstance(m, str) else f"{m.text} ({m.location.get('url')})" for m in errors
        )


class Visitor:
    """Someone at the browser: the page, the app's catalogue and address, the checks."""

    def __init__(self, page, app, audit: Audit, language: str):
        self.page, self.app, self.audit, self.language = page, app, audit, language
        self.base_url = app.config["BASE_URL"]
        audit.watch(page)

    def t(self, text, **values) -> str:
        return translate(self.app, self.language, text, **values)

    def goto(self, path: str) -> None:
        """Open `path` (on the app) and check the page; any HTTP status is fine here."""
        self.page.goto(self.base_url + path)
        self.audit.check(self.page)

    def fill(self, **fields: str) -> None:
        """Type into the inputs labelled by each keyword's text: `fill(**{"Full name": "..."})`
        (a required field's mark, `*`, aside)."""
        for label, value in fields.items():
            self.page.get_by_label(label_text(self.t(label))).fill(value)

    def press(self, button: str, **fields: str) -> None:
        """Fill `fields`, press the button named `button`; check the page it leads to."""
        self.fill(**fields)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=self.t(button), exact=True).click()
        self.audit.check(self.page)

    def follow_link(self, text: str, exact: bool = True) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=text, exact=exact).first.click()
        self.audit.check(self.page)

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    def summary(self, term: str) -> str:
        """The value of the page's summary entry `term` (a <dt> of `dl.summary`)."""
        term_element = self.page.locator("dl.summary dt", has_text=self.t(term)).first
        return term_element.locator("xpath=following-sibling::dd[1]").inner_text().strip()


class Person(Visitor):
    """The data subject, by default in French."""

    def __init__(self, page, app, audit: Audit, language: str = "fr"):
        super().__init__(page, app, audit, language)
        self.status_path: str | None = None
        self.links_seen = 0  # confirmation links in the outbox before the last request

    def open_form(self, right: str) -> None:
        """From the home page, the form of `right` (its title)."""
        self.links_seen = len(links_in_outbox(self.app, "/verify/"))
        self.goto("/")
        self.follow_link(self.t(right))
        assert self.heading() == self.t(right)

    def send_form(self, **fields: str) -> None:
        """Fill `fields` (by label) and send the form; `sent()` or `form_errors()` tell."""
        self.press("Send my request", **fields)

    def sent(self) -> bool:
        return self.heading() == self.t("Check your mailbox")

    def form_errors(self) -> list[str]:
        """The lines of the form's error summary."""
        return self.page.locator(".error-summary li").all_inner_texts()

    def file_request(self, right: str, *, email: str, name: str, **fields: str) -> None:
        """The form of `right`, filled and sent."""
        self.open_form(right)
        self.send_form(**{"Email address": email, "Full name": name}, **fields)
        assert self.sent(), self.form_errors()

    def confirm(self) -> str:
        """The link of the confirmation email the worker sends, then its button; the reference."""
        self.goto(local_path(new_link(self.app, "/verify/", self.links_seen)))
        assert self.heading() == self.t("Confirm your request")
        self.press("Confirm my request")
        self.status_path = local_path(self.page.url)
        return self.reference()

    def reference(self) -> str:
        ref = self.summary("Reference")
        assert REFERENCE.fullmatch(ref), ref
        return ref

    def follow(self) -> str:
        """The status page again; the status it shows."""
        self.goto(self.status_path)
        return self.summary("Status")

    def prove_phone(self) -> None:
        """On the status page, "Send me a code", then the code the text message brings."""
        seen = len(text_messages(self.app))
        self.press("Send me a code")
        code = CODE.search(new_text_message(self.app, seen)["text"]).group(1)
        self.press("Prove this number", **{"Code received by text message": code})

    def answer_question(self, text: str, document: Path) -> None:
        """On the status page, the answer to the team's question, with a file."""
        self.follow()
        self.page.get_by_label(
            self.t("Files, if we asked for documents (optional)")
        ).set_input_files(document)
        self.press("Send my answer", **{"Your answer": text})

    def download_answer(self, folder: Path) -> Path:
        """The status page's download button; the file saved into `folder`."""
        with self.page.expect_download() as event:
            self.page.get_by_role("link", name=self.t("Download the answer (ZIP)")).click()
        download = event.value
        assert download.failure() is None, download.failure()
        target = folder / download.suggested_filename
        download.save_as(target)
        return target


class Handler(Visitor):
    """A member of the privacy team, in English."""

    def __init__(self, page, app, audit: Audit, language: str = "en"):
        super().__init__(page, app, audit, language)

    def sign_in(self, email: str, password: str) -> None:
        self.goto("/staff/")  # signed out: sent to the login page
        assert self.heading() == self.t("Privacy team: sign in")
        self.press("Sign in", **{"Email address": email, "Password": password})
        assert self.heading() == self.t("Requests")

    def open_case(self, ref: str) -> None:
        """From the queue, the case of `ref`."""
        self.follow_link(self.t("Queue"))
        self.follow_link(ref)
        assert self.heading() == self.t("Request %(ref)s", ref=ref)

    def status(self) -> str:
        return self.summary("Status")

    def reload(self) -> None:
        self.page.reload()
        self.audit.check(self.page)

    def choose(self, label: str) -> None:
        """Tick the radio button or checkbox labelled `label`."""
        self.page.get_by_label(self.t(label), exact=True).check()
