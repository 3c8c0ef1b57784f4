"""The self-assessment has no API yet (issue 20 §1 leaves it optional); the pages serve it."""
