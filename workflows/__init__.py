"""The registry of request types; one module per right defines and registers its type."""

from workflows.base import RequestType

_REGISTRY: dict[str, type[RequestType]] = {}


def register(definition: type[RequestType]) -> type[RequestType]:
    """Add a type to the registry; two definitions may not share a name."""
    if not definition.name:
        raise ValueError(f"{definition.__name__} has no name")
    if definition.name in _REGISTRY:
        raise ValueError(f"request type {definition.name!r} is registered twice")
    _REGISTRY[definition.name] = definition
    return definition


def get(name: str) -> type[RequestType]:
    """The definition of a type; KeyError if there is none of that name."""
    return _REGISTRY[name]


def names() -> list[str]:
    """Every type name, in the order the form lists them."""
    return list(_REGISTRY)


def definitions() -> list[type[RequestType]]:
    return list(_REGISTRY.values())


# Imported for their side effect (registration), in the order the form shows them.
# isort: off
from workflows import access  # noqa: E402, F401
from workflows import rectification  # noqa: E402, F401
from workflows import erasure  # noqa: E402, F401
from workflows import portability  # noqa: E402, F401
from workflows import restriction  # noqa: E402, F401
from workflows import objection  # noqa: E402, F401
from workflows import consent_withdrawal  # noqa: E402, F401
from workflows import post_mortem  # noqa: E402, F401
# isort: on
