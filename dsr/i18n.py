"""Languages: the ones we ship catalogues for, and how a page's language is chosen.

The page's switch (`?lang=`) wins, then the session, then the browser's
Accept-Language. Outside a request (emails rendered by a job) the language is
the one forced around the rendering, else the default.
"""

from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from dsr.extensions import babel

#: the languages with a catalogue under dsr/translations (English is the source)
LANGUAGES = ("fr", "en")


def browser_language() -> str:
    """The client's preferred supported language, else the default."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return request.accept_languages.best_match(LANGUAGES) or default


def select_locale() -> str:
    if not has_request_context():  # a job or a command: the instance's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return browser_language()


def current_locale() -> str:
    """The language being rendered, as a plain code."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def lang_url(code: str) -> str:
    """This page in another language: a query-only link, so the path stays as it is."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*args, ("lang", code)])


def language_globals() -> dict:
    """What base.html needs on every page (and emails, which have no request)."""
    if not has_request_context():
        return {"current_locale": current_locale()}
    return {"current_locale": current_locale(), "lang_url": lang_url}


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone="UTC")
    app.context_processor(language_globals)
