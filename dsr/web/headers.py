"""Security headers on every response.

The pages load nothing but their own stylesheet and script and carry no inline
script or style attribute, so the Content-Security-Policy can allow only this origin
and forbid framing outright. `Referrer-Policy: same-origin`: the status,
confirmation and download pages carry their signed token in the URL, which
must never reach another site through a link; same-origin requests keep their
Referer, which Flask-WTF's CSRF check requires over HTTPS. HSTS is sent in
production only: development serves plain HTTP on loopback.
"""

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

#: every response
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: production only: browsers come back over HTTPS for a year
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    headers = dict(HEADERS)
    if app.config["DSR_ENV"] == "production":
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
