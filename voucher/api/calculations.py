"""``/api/v1/calculations/*``: the public calculators (no authentication; nothing is stored).

The same ``voucher.subsidies.services`` functions and ``params_for`` as the calculator pages, so
both give the same figures for the same input.
"""
from __future__ import annotations

from decimal import Decimal

from flask.views import MethodView
from flask_babel import gettext as _

from voucher.api import api_blueprint
from voucher.calc import FEN, CalcInputError, InterestPeriod, RobotLine, Step, classify_enterprise
from voucher.calc.common import fmt_pct
from voucher.subsidies import schemas, services

blp = api_blueprint("calculations", __name__, description="Public calculators: SME size class, loan interest "
                    "discount, robot purchase subsidy. Money and rates are decimal strings (rates in percent).")


def money(value: Decimal) -> str:
    return format(value.quantize(FEN), "f")


def steps(working) -> list[dict]:
    return [{"code": s.code, "text": s.render(_), "values": dict(s.values)} for s in working]


def loan_result_json(result, params) -> dict:
    out = {
        "eligible": result.eligible,
        "rate_ceiling": fmt_pct(result.rate_ceiling),
        "total_discount": money(result.total_discount),
        "periods": [{"start": p.start.isoformat(), "end": p.end.isoformat(), "days": p.days,
                     "outstanding_principal": money(p.outstanding_principal),
                     "eligible_principal": money(p.eligible_principal), "principal_capped": p.principal_capped,
                     "interest_paid": money(p.interest_paid), "discount": money(p.discount),
                     "capped_by_interest_paid": p.capped_by_interest_paid} for p in result.periods],
        "parameters": services.loan_params_json(params),
        "working": steps(result.working),
    }
    if not result.eligible:
        refusal = next((s for s in result.working if s.code == "loan.ineligible"), None)
        out["reason"] = refusal.render(_) if isinstance(refusal, Step) else (result.reason or "")
    return out


def robot_result_json(result, params) -> dict:
    return {
        "total_subsidy": money(result.total_subsidy),
        "uncapped_total": money(result.uncapped_total),
        "cap_applied": result.cap_applied,
        "cap_remaining_before": money(result.cap_remaining_before),
        "lines": [{"model": x.model, "invoice_no": x.invoice_no, "rate": fmt_pct(x.rate),
                   "eligible_cost": money(x.eligible_cost), "subsidy": money(x.subsidy), "granted": money(x.granted),
                   "cap_reduction": money(x.cap_reduction)} for x in result.lines],
        "parameters": services.robot_params_json(params),
        "working": steps(result.working),
    }


@blp.route("/calculations/sme-class")
class SmeClass(MethodView):
    @blp.arguments(schemas.SmeClassRequest)
    @blp.response(200, schemas.SmeClassResponse)
    def post(self, body):
        """Size class (MIIT 2011 thresholds for industry) and whether the enterprise is an SME."""
        try:
            result = classify_enterprise(body["employees"], body["annual_revenue"])
        except CalcInputError as err:  # the schema should have caught it
            raise services.calc_error(err) from None
        return {"size_class": result.size_class, "is_sme": result.is_sme, "working": steps(result.working)}


@blp.route("/calculations/loan-discount")
class LoanDiscount(MethodView):
    @blp.arguments(schemas.LoanDiscountRequest)
    @blp.response(200, schemas.LoanDiscountResponse)
    def post(self, body):
        """Interest discount on a digital technical-reform loan, per interest period, with the working.

        A loan above benchmark × (1 − margin) is not eligible: ``eligible`` false, a ``reason``,
        total "0.00".
        """
        programme = services.find_programme(body.get("programme_id"))
        loan_params, _robot = services.params_for(programme)
        periods = [InterestPeriod(p["start"], p["end"], p["outstanding_principal"], p["interest_paid"])
                   for p in body["periods"]]
        result = services.calculate_loan(body["benchmark_rate"], body["loan_rate"], periods, loan_params)
        return loan_result_json(result, loan_params)


@blp.route("/calculations/robot-subsidy")
class RobotSubsidy(MethodView):
    @blp.arguments(schemas.RobotSubsidyRequest)
    @blp.response(200, schemas.RobotSubsidyResponse)
    def post(self, body):
        """Robot purchase subsidy per line (10%, 15% domestic brand, 20% domestic brand in a pilot
        industry), summed, then limited to what remains of the enterprise cap."""
        programme = services.find_programme(body.get("programme_id"))
        _loan, robot_params = services.params_for(programme)
        lines = [RobotLine(x["model"].strip(), (x.get("manufacturer") or "").strip() or "-", x["domestic"],
                           x["quantity"], x["unit_price_excl_vat"], x["invoice_no"].strip(), x["invoice_date"])
                 for x in body["lines"]]
        result = services.calculate_robot(lines, body["pilot_industry"], body["already_granted"], robot_params)
        return robot_result_json(result, robot_params)
