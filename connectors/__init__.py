"""Connectors: the protocol between the engine and the systems that hold personal data.

`connectors.base` is the protocol, `connectors.registry` finds the kinds
(entry-point group `dsr.connectors`) and builds the instances the instance
TOML declares; `sql`, `http`, `webhook` and `manual` are the built-in kinds;
`connectors.demo` holds the demo systems `scripts/run.sh` starts.
"""
