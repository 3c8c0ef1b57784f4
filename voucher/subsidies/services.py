"""Loan interest discounts and robot purchase subsidies: the public face of the domain's services.

The rules live in the modules by subject, each public function's docstring stating the rule it
enforces; this module re-exports their public names so callers (views, the API, payments, demo,
jobs, tests) keep importing ``voucher.subsidies.services``:

- :mod:`voucher.subsidies.common` — what both kinds share: the kinds and their state machine,
  programme parameters (:func:`params_for`), the calculators with domain errors, whose
  enterprise files, uploads, reading an application;
- :mod:`voucher.subsidies.lpr` — the 1-year LPR table (:func:`lpr_in_force`, :func:`add_lpr_rate`);
- :mod:`voucher.subsidies.loans` — loan-discount applications (ceiling, periods, the principal cap);
- :mod:`voucher.subsidies.robots` — robot-subsidy applications (invoices claimed once, the cap);
- :mod:`voucher.subsidies.materials` — the checklist of materials, adding and removing files;
- :mod:`voucher.subsidies.review` — submit, withdraw, approve, reject, return, cancel a grant.

A test that replaces a function used inside these modules patches the module that uses it
(e.g. ``voucher.subsidies.loans._check_loan_overlap``), not this one.
"""
from __future__ import annotations

from voucher.subsidies.common import (
    EARLIEST_DATE,
    EDITABLE_STATES,
    HUNDRED,
    KINDS,
    LOAN_MACHINE,
    LOAN_SOURCE,
    MATERIAL_OF_FIELD,
    MAX_AMOUNT,
    MAX_LINES,
    MAX_PERIODS,
    ROBOT_MACHINE,
    ROBOT_SOURCE,
    ZERO,
    InputRefused,
    Upload,
    application_params,
    calc_error,
    calculate_loan,
    calculate_robot,
    detail_path,
    enterprise_of,
    find_programme,
    get_application,
    loan_params_json,
    local_today,
    open_programmes,
    params_for,
    programmes_for_calculator,
    render_step,
    robot_params_json,
    versioned_params,
    working_json,
)
from voucher.subsidies.loans import (
    LoanInput,
    LoanPreview,
    PeriodInput,
    ceiling_refusal,
    check_loan_rate,
    compute_loan,
    get_loan_application,
    principal_already_subsidised,
    recompute_loan,
    save_loan_application,
)
from voucher.subsidies.lpr import (
    add_lpr_rate,
    lpr_in_force,
)
from voucher.subsidies.materials import (
    add_materials,
    application_file,
    attachments,
    checklist,
    materials_by_code,
    remove_material,
)
from voucher.subsidies.review import (
    REASON_MAX,
    act,
    approval_preview,
    cancel_grant,
)
from voucher.subsidies.robots import (
    RobotInput,
    RobotLineInput,
    RobotPreview,
    compute_robot,
    get_robot_application,
    robot_cap_left,
    save_robot_application,
)

__all__ = [
    "EARLIEST_DATE",
    "EDITABLE_STATES",
    "HUNDRED",
    "InputRefused",
    "KINDS",
    "LOAN_MACHINE",
    "LOAN_SOURCE",
    "LoanInput",
    "LoanPreview",
    "MATERIAL_OF_FIELD",
    "MAX_AMOUNT",
    "MAX_LINES",
    "MAX_PERIODS",
    "PeriodInput",
    "REASON_MAX",
    "ROBOT_MACHINE",
    "ROBOT_SOURCE",
    "RobotInput",
    "RobotLineInput",
    "RobotPreview",
    "Upload",
    "ZERO",
    "act",
    "add_lpr_rate",
    "add_materials",
    "application_file",
    "approval_preview",
    "attachments",
    "calc_error",
    "calculate_loan",
    "calculate_robot",
    "cancel_grant",
    "ceiling_refusal",
    "check_loan_rate",
    "checklist",
    "compute_loan",
    "compute_robot",
    "detail_path",
    "enterprise_of",
    "find_programme",
    "get_application",
    "get_loan_application",
    "get_robot_application",
    "loan_params_json",
    "local_today",
    "lpr_in_force",
    "materials_by_code",
    "open_programmes",
    "params_for",
    "application_params",
    "versioned_params",
    "principal_already_subsidised",
    "programmes_for_calculator",
    "recompute_loan",
    "remove_material",
    "render_step",
    "robot_cap_left",
    "robot_params_json",
    "save_loan_application",
    "save_robot_application",
    "working_json",
]
