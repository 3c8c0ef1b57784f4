"""`/api/v1/catalogue/solutions` (public catalogue, no token) and `/api/v1/solutions` (internal
records: providers' drafts and submissions, evaluators' screening, the bureau's listing decisions).

Every change calls `voucher.catalogue.services` (the same functions as the pages), so the state
machine, the provider-owns-its-solutions rule and the audit trail are the pages' own.
"""
from __future__ import annotations

from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.catalogue import queries, services
from voucher.catalogue.access import RULES as ACCESS
from voucher.catalogue.labels import STATUS_LABELS
from voucher.catalogue.schemas import (
    PublicListArgs,
    PublicSolutionSchema,
    ReasonSchema,
    RecommendSchema,
    RecordListArgs,
    ScreeningInputSchema,
    SolutionInputSchema,
    SolutionRecordSchema,
)
from voucher.errors import Forbidden, NotFound

RECORD_READERS = ACCESS["catalogue.record"].roles

blp = api_blueprint("api-catalogue", __name__, description="The solution catalogue: public listing (no token), "
                    "providers' solutions (create, edit, submit), evaluators' screening, the bureau's "
                    "recommendation and delisting.")

PublicPage = page_schema("PublicSolutionPage", PublicSolutionSchema)
RecordPage = page_schema("SolutionRecordPage", SolutionRecordSchema)


class PublicListQuery(PageArgs, PublicListArgs):
    pass


class RecordListQuery(PageArgs, RecordListArgs):
    pass


def _stats_json(stats) -> dict:
    return {"trials_run": stats.trials_run, "mean_score": stats.mean_score, "adoption_rate": stats.adoption_rate}


def public_json(solution, stats) -> dict:
    return {**_facts(solution), "status": solution.status, "stats": _stats_json(stats)}


def _facts(solution) -> dict:
    return {"id": solution.id, "title": solution.title, "category": solution.category,
            "target_industries": list(solution.target_industries or []), "description": solution.description,
            "list_price": solution.list_price, "trial_price": solution.trial_price,
            "trial_period_days": solution.trial_period_days,
            "provider": {"id": solution.provider.id, "name": solution.provider.name}, "listed_at": solution.listed_at}


def record_json(solution, actor, screenings=()) -> dict:
    return {**_facts(solution), "status": solution.status, "status_label": str(STATUS_LABELS.get(solution.status,
                                                                                                 solution.status)),
            "created_at": solution.created_at, "updated_at": solution.updated_at,
            "submitted_at": solution.submitted_at, "allowed_actions": services.allowed_actions(actor, solution),
            "screenings": [_screening_json(s) for s in screenings]}


def _screening_json(s) -> dict:
    return {"id": s.id, "evaluator_id": s.evaluator_id, "maturity": s.maturity, "references_score": s.references_score,
            "price_reasonableness": s.price_reasonableness, "service_capability": s.service_capability,
            "data_security": s.data_security, "mean_score": s.mean_score, "decision": s.decision,
            "reasons": s.reasons, "created_at": s.created_at}


def _detail(solution_id: int) -> dict:
    actor = api_actor()
    solution = services.solution_for(actor, solution_id)
    return record_json(solution, actor, queries.screenings_for(solution.id))


def solution_input(body: dict) -> services.SolutionInput:
    return services.SolutionInput(title=body["title"], category=body["category"],
                                  target_industries=tuple(body["target_industries"]), description=body["description"],
                                  list_price=body["list_price"], trial_price=body["trial_price"],
                                  trial_period_days=body["trial_period_days"])


# --- public --------------------------------------------------------------------------------------

@blp.route("/catalogue/solutions")
class PublicList(MethodView):
    @blp.arguments(PublicListQuery, location="query")
    @blp.response(200, PublicPage)
    def get(self, args):
        """The public catalogue: listed and recommended solutions, searched, filtered and sorted as on the page
        (no token needed)."""
        pagination = queries.public_page(q=args.get("q"), category=args.get("category"),
                                         industry=args.get("industry"), sort=args["sort"], page=args["page"],
                                         per_page=args["per_page"], cursor=args.get("cursor"))
        stats = queries.solution_stats([s.id for s in pagination.items])
        return page_json(pagination, [public_json(s, stats[s.id]) for s in pagination.items])


@blp.route("/catalogue/solutions/<id:solution_id>")
class PublicItem(MethodView):
    @errors(blp, 404)
    @blp.response(200, PublicSolutionSchema)
    def get(self, solution_id: int):
        """A solution of the public catalogue (404 unless listed or recommended; no token needed)."""
        solution = queries.public_solution(solution_id)
        if solution is None:
            raise NotFound("No such solution.")
        return public_json(solution, queries.solution_stats([solution.id])[solution.id])


# --- internal records ----------------------------------------------------------------------------

@blp.route("/solutions")
class RecordList(MethodView):
    @auth(blp, *RECORD_READERS)
    @blp.arguments(RecordListQuery, location="query")
    @blp.response(200, RecordPage)
    def get(self, args):
        """Solutions the caller works on: a provider its own (any state); an evaluator the screening queue
        (submitted and in screening, longest waiting first); bureau roles every solution."""
        actor = api_actor()
        page, per_page = args["page"], args["per_page"]
        if actor.role == "provider":
            if actor.organisation_id is None:
                raise Forbidden("Your account is not attached to a provider organisation.")
            pagination = queries.provider_page(actor.organisation_id, q=args.get("q"), status=args.get("status"),
                                               page=page, per_page=per_page, cursor=args.get("cursor"), seek=True)
        elif actor.role == "evaluator":
            status = args.get("status")
            if status is not None and status not in queries.QUEUE_STATES:
                return page_json(_Empty(page, per_page))
            pagination = queries.screening_queue_page(status=status, page=page, per_page=per_page,
                                                      cursor=args.get("cursor"), seek=True)
        else:
            pagination = queries.manage_page(q=args.get("q"), status=args.get("status"),
                                             category=args.get("category"), page=page, per_page=per_page,
                                             cursor=args.get("cursor"), seek=True)
        return page_json(pagination, [record_json(s, actor) for s in pagination.items])

    @auth(blp, *ACCESS["catalogue.own_solutions"].roles)
    @errors(blp, 400)
    @blp.arguments(SolutionInputSchema)
    @blp.response(201, SolutionRecordSchema)
    def post(self, body):
        """Create a draft solution for the caller's provider organisation."""
        actor = api_actor()
        solution = services.create_solution(actor, solution_input(body))
        return record_json(solution, actor)


class _Empty:
    def __init__(self, page, per_page):
        self.items, self.page, self.per_page, self.total = [], page, per_page, 0


@blp.route("/solutions/<id:solution_id>")
class RecordItem(MethodView):
    @auth(blp, *RECORD_READERS)
    @errors(blp, 404)
    @blp.response(200, SolutionRecordSchema)
    def get(self, solution_id: int):
        """A solution's record with its screening rounds (its provider, evaluators, bureau roles)."""
        return _detail(solution_id)

    @auth(blp, *ACCESS["catalogue.own_solutions"].roles)
    @errors(blp, 400, 404, 409)
    @blp.arguments(SolutionInputSchema)
    @blp.response(200, SolutionRecordSchema)
    def put(self, body, solution_id: int):
        """Replace a draft's facts (its provider only, only while a draft)."""
        services.update_solution(api_actor(), solution_id, solution_input(body))
        return _detail(solution_id)


def _action(rule: str, roles: tuple[str, ...], call, summary: str, body_schema=None, body_required=True):
    """A POST action on a solution: call the service, answer the updated record."""
    endpoint = rule.strip("/").replace("-", "_")

    if body_schema is None:
        def view(solution_id: int):
            call(api_actor(), solution_id)
            return _detail(solution_id)
    else:
        def view(body, solution_id: int):
            call(api_actor(), solution_id, body)
            return _detail(solution_id)
    view.__name__ = f"solution_{endpoint}"
    view.__doc__ = summary
    decorated = blp.response(200, SolutionRecordSchema)(view)
    if body_schema is not None:
        decorated = blp.arguments(body_schema, required=body_required)(decorated)
        decorated = errors(blp, 400)(decorated)
    decorated = errors(blp, 404, 409)(decorated)
    decorated = auth(blp, *roles)(decorated)
    blp.route(f"/solutions/<id:solution_id>/{rule}", methods=["POST"], endpoint=f"solution_{endpoint}")(decorated)


_action("submit", ACCESS["catalogue.own_solutions"].roles, services.submit,
        "Send a draft for screening (its provider; evaluators are notified).")
_action("revise", ACCESS["catalogue.own_solutions"].roles, services.revise,
        "Take a rejected solution back into draft to revise it (its provider).")
_action("start-screening", ACCESS["catalogue.screen"].roles, services.start_screening,
        "Take a submitted solution into screening (an evaluator).")
_action("screening", ACCESS["catalogue.screen"].roles,
        lambda actor, sid, body: services.screen(actor, sid, services.ScreeningInput(**body)),
        "Record the rubric and the decision: list or reject (an evaluator; the solution must be in screening).",
        ScreeningInputSchema)
_action("recommend", ACCESS["catalogue.curate"].roles,
        lambda actor, sid, body: services.promote_to_recommended(actor, sid, programme_id=body.get("programme_id")),
        "Put a listed solution on the recommendation catalogue (an officer; refused with the figures unless it "
        "has enough passed evaluations with a high enough mean score).", RecommendSchema, body_required=False)
_action("delist", ACCESS["catalogue.curate"].roles, lambda actor, sid, body: services.delist(actor, sid, body["reason"]),
        "Take a listed or recommended solution out of the catalogue (an officer, with a reason).", ReasonSchema)
_action("relist", ACCESS["catalogue.curate"].roles, lambda actor, sid, body: services.relist(actor, sid, body["reason"]),
        "Put a delisted solution back in the catalogue (an officer, with a reason).", ReasonSchema)
