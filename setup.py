"""The packages the distribution holds; everything else is declared in pyproject.toml.

templates/ stays at the top of the repository and is installed as the package data of
dsr.templates (dsr/templates in the wheel), which pyproject.toml cannot say together with
package discovery: here both are computed, so a new package or folder of templates ships
without being listed anywhere. tests/test_wheel.py checks that the wheel carries them all.
"""

from setuptools import find_namespace_packages, setup


def packages(*roots: str) -> list[str]:
    """Every folder under the roots, as package names (data folders included)."""
    patterns = [pattern for root in roots for pattern in (root, f"{root}.*")]
    found = find_namespace_packages(include=patterns)
    return [name for name in found if not name.endswith("__pycache__")]


setup(
    packages=packages("dsr", "workflows", "connectors")
    + [f"dsr.{name}" for name in packages("templates")],
    package_dir={"dsr.templates": "templates"},
)
