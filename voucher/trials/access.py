"""Who may do what with trials: milestones, acceptance, evaluations, recommendations."""
from voucher.access import BUREAU, Rule, own_organisation


def _may_view(actor, trial) -> bool:
    """The bureau sees every trial; an SME its enterprise's, a provider its own solutions'; an evaluator
    only one assigned to them (not after declaring a conflict or being removed)."""
    if actor.role in BUREAU:
        return True
    if actor.role == "sme":
        return actor.organisation_id is not None and actor.organisation_id == trial.enterprise_id
    if actor.role == "provider":
        return actor.organisation_id is not None and actor.organisation_id == trial.provider_id
    if actor.role == "evaluator":
        from voucher.trials.common import assignment_of
        from voucher.trials.models import ACTIVE_ASSIGNMENT_STATES

        assignment = assignment_of(actor, trial.id)
        return assignment is not None and assignment.status in ACTIVE_ASSIGNMENT_STATES
    return False


def _party(actor, trial) -> bool:
    """The enterprise's users for the enterprise, the provider's for the provider."""
    attribute = "enterprise_id" if actor.role == "sme" else "provider_id"
    return actor.organisation_id is not None and actor.organisation_id == getattr(trial, attribute)


RULES = {
    "trials.index": Rule(*BUREAU),
    "trials.mine": Rule("provider", "sme"),
    "trials.view": Rule("sme", "provider", "evaluator", *BUREAU, check=_may_view),
    # payment stages and the acceptance page: the parties and the bureau (not the evaluators)
    "trials.follow": Rule("sme", "provider", *BUREAU, check=_may_view),
    "trials.accept": Rule("sme", "provider", check=_party),
    "trials.report_milestone": Rule("provider", check=own_organisation("provider_id")),
    "trials.confirm_milestone": Rule("sme", check=own_organisation("enterprise_id")),
    "trials.evaluate": Rule("evaluator", check=_may_view),
    "trials.manage": Rule("officer"),  # assign evaluators, record the result, promote
    "trials.recommendations": Rule("officer", "auditor"),
}
