"""Who may do what with the solution catalogue's internal records."""
from voucher.access import BUREAU, Rule


def _own_or_internal(actor, solution) -> bool:
    return actor.role != "provider" or (actor.organisation_id is not None
                                        and actor.organisation_id == solution.provider_id)


RULES = {
    # a solution's internal record: its own provider, the evaluators and the bureau
    "catalogue.record": Rule("provider", "evaluator", *BUREAU, check=_own_or_internal),
    "catalogue.manage": Rule(*BUREAU),  # the bureau's list of every solution
    "catalogue.own_solutions": Rule("provider", check=_own_or_internal),
    "catalogue.screen": Rule("evaluator"),
    "catalogue.curate": Rule("officer"),  # recommend, delist, relist
    "catalogue.eligibility": Rule("officer", "auditor"),
}
