"""The client's address behind reverse proxies we trust, and only those.

With `TRUSTED_PROXIES = n` (0 by default), Werkzeug's ProxyFix takes the
client address and scheme from the last `n` entries of `X-Forwarded-For` and
`X-Forwarded-Proto`, which our own proxies wrote. With 0 those headers are
ignored: anyone can send them, and the rate limits (keyed on
`request.remote_addr`) would otherwise count whatever address a client claims.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
