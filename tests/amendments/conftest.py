"""The amendment tests reuse the payment tests' world (a programme, approved grants through the real
services, finance officers) and their fixed clock."""
from tests.payments.conftest import TEST_NOW, World, login_as, world  # noqa: F401
