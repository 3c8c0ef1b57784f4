import pytest


@pytest.fixture(autouse=True)
def _package_without_2027(package_ends_with_2026):
    """Every test here counts on the package not knowing 2027 (tests/factories.py)."""
    yield
