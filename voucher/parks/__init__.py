"""Small-and-micro enterprise parks (小微企业园, issue 20 §3): the park, its operator (园区运营方) and
the enterprises that name it (membership the operator confirms); the operator's read-only view of
its enterprises' programme use and the workbook the park reports upward."""
