"""`/api/v1/trials`: trials of approved trial-voucher applications — the provider reports milestones,
the enterprise confirms or disputes them, an officer assigns evaluators, each evaluator declares
(no) conflict of interest and submits the effect-evaluation form, the enterprise records its
adoption decision.  Every call goes through `voucher.trials.services`: the pages' rules,
messages and audit trail."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema, renamed_fields
from voucher.storage import send_stored
from voucher.trials import queries, services
from voucher.trials.access import RULES as ACCESS
from voucher.trials.models import CRITERIA, INDICATOR_CODES, MILESTONE_KINDS
from voucher.trials.schemas import (
    AdoptionSchema,
    AssignmentSchema,
    AssignSchema,
    DeclarationSchema,
    EvaluationInputSchema,
    EvaluationSchema,
    EvaluatorSchema,
    MilestoneConfirmSchema,
    MilestoneReportSchema,
    TrialDetailSchema,
    TrialListArgs,
    TrialReasonSchema,
    TrialSchema,
)

READERS = ACCESS["trials.view"].roles
BUREAU = ACCESS["trials.index"].roles
KIND = "<any(" + ", ".join(MILESTONE_KINDS) + "):kind>"
FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")

blp = api_blueprint("api-trials", __name__, description="Trials: milestones (the provider reports, the enterprise "
                    "confirms or disputes), evaluator assignment, conflict-of-interest declaration, the "
                    "effect-evaluation form, the result and the adoption decision.")

TrialPage = page_schema("TrialPage", TrialSchema)

# The services name the evaluation form's fields as the web form does; the API nests them.
FIELD_NAMES = {**{f"after_{c}": f"afters.{c}" for c in INDICATOR_CODES},
               **{f"score_{c}": f"scores.{c}" for c in CRITERIA}}


class TrialListQuery(PageArgs, TrialListArgs):
    pass


def trial_json(trial) -> dict:
    today = services.applications.local_today()
    return {"id": trial.id, "application_id": trial.application_id, "application_number": trial.application.number,
            "programme_id": trial.programme_id,
            "solution": {"id": trial.solution.id, "title": trial.solution.title},
            "enterprise": {"id": trial.enterprise.id, "name": trial.enterprise.name},
            "provider": {"id": trial.provider.id, "name": trial.provider.name}, "status": trial.status,
            "status_label": str(queries.STATUS_LABELS.get(trial.status, trial.status)),
            "overdue": trial.is_overdue(today), "period_days": trial.period_days,
            "approved_amount": trial.approved_amount, "start_date": trial.start_date, "end_date": trial.end_date,
            "advance_pct": trial.advance_pct, "advance_amount": trial.advance_amount,
            "balance_amount": trial.balance_amount, "score": trial.score, "pass_score": trial.pass_score,
            "remarkable_score": trial.remarkable_score,
            "outcome": trial.outcome, "remarkable": trial.remarkable, "adopted": trial.adopted,
            "acceptance_status": trial.acceptance_status, "early_finish_reason": trial.early_finish_reason}


def _milestone_json(m) -> dict:
    return {"id": m.id, "kind": m.kind, "seq": m.seq, "status": m.status,
            "status_label": str(queries.MILESTONE_STATUS_LABELS.get(m.status, m.status)), "note": m.note,
            "file_id": m.file_id, "reported_at": m.reported_at, "report_count": m.report_count,
            "decided_at": m.decided_at, "dispute_reason": m.dispute_reason}


def _assignment_json(a, names) -> dict:
    return {"id": a.id, "evaluator": {"id": a.evaluator_id, "name": names.get(a.evaluator_id, "")},
            "status": a.status, "status_label": str(queries.ASSIGNMENT_STATUS_LABELS.get(a.status, a.status)),
            "assigned_at": a.assigned_at, "declared_at": a.declared_at, "conflict_reason": a.conflict_reason,
            "removed_reason": a.removed_reason}


def evaluation_json(e) -> dict:
    return {"id": e.id, "assignment_id": e.assignment_id, "evaluator_id": e.evaluator_id, "version": e.version,
            "correction_reason": e.correction_reason, "submitted_at": e.submitted_at, "afters": e.afters,
            "scores": e.scores, "weights": {k: int(v) for k, v in (e.weights or {}).items()},
            "overall": e.overall, "mean_improvement": e.mean_improvement, "comments": e.comments,
            "recommendation": e.recommendation}


def detail_json(trial, actor) -> dict:
    reported = services.milestones(trial.id)
    next_kind = services.next_reportable(trial, reported)
    rows = services.assignments(trial.id)
    own = services.assignment_of(actor, trial.id) if actor.role == "evaluator" else None
    if actor.role in BUREAU:
        visible = rows
    elif own is not None:
        visible = [a for a in rows if a.id == own.id]
    else:
        visible = []
    names = queries.evaluator_names([a.evaluator_id for a in visible])
    evaluations = [e for e in queries.evaluations_of(trial.id) if services.can_see_comments(actor, trial, e)]
    from voucher.programmes.services import version_ref_of

    return {**trial_json(trial), "rule_version": version_ref_of(trial.rule_version_id),
            "next_step": queries.next_step(actor.role, trial, reported, next_kind, own),
            "next_milestone": next_kind,
            "completed_at": trial.completed_at, "evaluated_at": trial.evaluated_at,
            "mean_improvement": trial.mean_improvement, "released_amount": trial.released_amount,
            "adoption_reason": trial.adoption_reason,
            "milestones": [_milestone_json(reported[k]) for k in MILESTONE_KINDS if k in reported],
            "assignments": [_assignment_json(a, names) for a in visible],
            "evaluations": [evaluation_json(e) for e in evaluations]}


def _detail(trial_id: int) -> dict:
    actor = api_actor()
    return detail_json(services.get_trial(actor, trial_id), actor)


@blp.route("/trials")
class TrialList(MethodView):
    @auth(blp, *READERS)
    @blp.arguments(TrialListQuery, location="query")
    @blp.response(200, TrialPage)
    def get(self, args):
        """Trials the caller may see, overdue first: an enterprise its own, a provider those of its solutions,
        an evaluator those assigned to them, bureau roles all (filter by status, overdue, provider, search)."""
        actor = api_actor()
        filters = queries.TrialFilters(status=args.get("status"), overdue=bool(args.get("overdue")),
                                       provider_id=args.get("provider_id") if actor.role in BUREAU else None,
                                       q=args.get("q"))
        if actor.role == "evaluator":
            page = queries.evaluator_page(actor.user_id, args["page"], args["per_page"], show_all=True)
            trials = [a.trial for a in page.items]
        elif actor.role in BUREAU:
            page = queries.trials_page(filters, args["page"], args["per_page"])
            trials = page.items
        else:
            key = "provider_id" if actor.role == "provider" else "enterprise_id"
            page = queries.my_trials_page(**{key: actor.organisation_id or -1}, filters=filters, page=args["page"],
                                          per_page=args["per_page"])
            trials = page.items
        return page_json(page, [trial_json(t) for t in trials])


@blp.route("/trials/<id:trial_id>")
class TrialItem(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, TrialDetailSchema)
    def get(self, trial_id: int):
        """A trial with its milestones, and the assignments and evaluation forms the caller may read."""
        return _detail(trial_id)


def _route(rule: str, endpoint: str, roles, summary: str, call, body_schema=None, extra_errors=(400, 404, 409),
           response_schema=TrialDetailSchema, present=None):
    """A POST action on a trial: call the service, answer the trial as the caller now sees it (or, with
    `present`, what `present(result)` makes of the service's result)."""
    def answer(trial_id: int, result):
        return present(result) if present is not None else _detail(trial_id)

    if body_schema is None:
        def view(trial_id: int, **kwargs):
            with renamed_fields(FIELD_NAMES):
                result = call(api_actor(), trial_id, None, **kwargs)
            return answer(trial_id, result)
    else:
        def view(body, trial_id: int, **kwargs):
            with renamed_fields(FIELD_NAMES):
                result = call(api_actor(), trial_id, body, **kwargs)
            return answer(trial_id, result)
    view.__name__ = endpoint
    view.__doc__ = summary
    decorated = blp.response(200, response_schema)(view)
    if body_schema is not None:
        decorated = blp.arguments(body_schema)(decorated)
    decorated = errors(blp, *extra_errors)(decorated)
    decorated = auth(blp, *roles)(decorated)
    blp.route(f"/trials/<id:trial_id>{rule}", methods=["POST"], endpoint=endpoint)(decorated)


def _upload(body: dict):
    file = body.get("file")
    if file is None:
        return None
    return services.Upload(file.stream, file.filename, current_app.config["UPLOAD_MAX_BYTES"])


_route("/milestones", "report_milestone", ACCESS["trials.report_milestone"].roles,
       "Report a milestone (the provider's users): kickoff, deployed, in_use, final_report in order, each after the "
       "enterprise confirmed the previous one; a disputed one is reported again.",
       lambda actor, tid, body: services.report_milestone(actor, tid, body["kind"], body["note"], _upload(body)),
       MilestoneReportSchema, extra_errors=(400, 404, 409, 413))
_route(f"/milestones/{KIND}/confirm", "confirm_milestone", ACCESS["trials.confirm_milestone"].roles,
       "Confirm a reported milestone (the enterprise's users); the kick-off starts the trial, the final report "
       "completes it (confirmed more than 30% of the trial period before its planned end: give `early_reason`).",
       lambda actor, tid, body, kind: services.confirm_milestone(actor, tid, kind,
                                                                 early_reason=(body or {}).get("early_reason")),
       MilestoneConfirmSchema, extra_errors=(400, 404, 409, 422))
_route(f"/milestones/{KIND}/dispute", "dispute_milestone", ACCESS["trials.confirm_milestone"].roles,
       "Dispute a reported milestone with a reason (the enterprise's users); the provider reports it again.",
       lambda actor, tid, body, kind: services.dispute_milestone(actor, tid, kind, body["reason"]), TrialReasonSchema)
_route("/assignments", "assign_evaluator", ACCESS["trials.manage"].roles,
       "Assign an evaluator to a completed trial (an officer; not one from the provider or the enterprise).",
       lambda actor, tid, body: services.assign_evaluator(actor, tid, body["evaluator_id"]), AssignSchema)
_route("/assignments/<id:assignment_id>/remove", "remove_assignment", ACCESS["trials.manage"].roles,
       "Withdraw an evaluator who has not submitted (an officer, with a reason).",
       lambda actor, tid, body, assignment_id: services.remove_assignment(actor, tid, assignment_id,
                                                                          body["reason"]), TrialReasonSchema)
_route("/declare-no-conflict", "declare_no_conflict", ACCESS["trials.evaluate"].roles,
       "Declare no conflict of interest (the assigned evaluator, once): the evaluation form opens.",
       lambda actor, tid, body: services.declare_no_conflict(actor, tid, body["confirm"]), DeclarationSchema)
_route("/declare-conflict", "declare_conflict", ACCESS["trials.evaluate"].roles,
       "Declare a conflict of interest with the reason (the assigned evaluator): they can no longer open or score "
       "the trial, so the answer is their assignment, not the trial.",
       lambda actor, tid, body: services.declare_conflict(actor, tid, body["reason"]), TrialReasonSchema,
       response_schema=AssignmentSchema,
       present=lambda a: _assignment_json(a, queries.evaluator_names([a.evaluator_id])))
_route("/evaluation", "submit_evaluation", ACCESS["trials.evaluate"].roles,
       "Submit the effect-evaluation form (the assigned evaluator, after declaring no conflict): post-trial values, "
       "five scores 0-100, comments, recommendation; a correction is a new version with its reason. When every "
       "assigned evaluator has submitted, the trial's score and outcome are recorded.",
       lambda actor, tid, body: services.submit_evaluation(actor, tid, services.EvaluationInput(
           afters=dict(body["afters"]), scores=dict(body["scores"]), comments=body["comments"],
           recommendation=body["recommendation"], correction_reason=body.get("correction_reason"))),
       EvaluationInputSchema)
_route("/result", "record_result", ACCESS["trials.manage"].roles,
       "Record the result from the forms submitted when no assigned evaluator is still pending (an officer).",
       lambda actor, tid, body: services.record_result(actor, tid), extra_errors=(404, 409))
_route("/adoption", "record_adoption", ACCESS["trials.confirm_milestone"].roles,
       "Record whether the enterprise will pay to keep using the solution, and why (its users, once, after the "
       "result); the trial closes.",
       lambda actor, tid, body: services.record_adoption(actor, tid, body["adopted"], body["reason"]),
       AdoptionSchema)


@blp.route("/trials/<id:trial_id>/evaluations/<id:evaluation_id>")
class EvaluationItem(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, EvaluationSchema)
    def get(self, trial_id: int, evaluation_id: int):
        """One version of an evaluation form (the bureau and its evaluator; the enterprise, the provider and
        other evaluators once the result is final: 403 before)."""
        _trial, evaluation = services.get_evaluation(api_actor(), trial_id, evaluation_id)
        return evaluation_json(evaluation)


def milestone_file(trial_id: int, milestone_id: int):
    """Download a milestone's evidence file (who may see the trial)."""
    stored = services.milestone_file(api_actor(), trial_id, milestone_id)
    return send_stored(stored, max_age=None)


_decorated = milestone_file
for _type in FILE_TYPES:
    _decorated = blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=_type,
                                  description="The file's bytes", success=True)(_decorated)
_decorated = auth(blp, *READERS)(errors(blp, 404)(_decorated))
blp.route("/trials/<id:trial_id>/milestones/<id:milestone_id>/file", endpoint="milestone_file")(_decorated)


@blp.route("/evaluators")
class EvaluatorList(MethodView):
    @auth(blp, *ACCESS["trials.manage"].roles)
    @blp.response(200, EvaluatorSchema(many=True))
    def get(self):
        """Active evaluators, to assign to a completed trial (an officer)."""
        return [{"id": u.id, "name": u.name, "organisation": u.organisation.name if u.organisation else None}
                for u in services.evaluator_choices()]
