"""Who may do what with parks.  A park operator reads only the parks its organisation operates (and
their confirmed enterprises); it decides membership requests of its own parks and changes nothing of
an enterprise.  The bureau reads every park; an enterprise's own SME users name, change or leave
their park; the administrator and the officer register parks."""
from voucher.access import BUREAU, Rule


def operates(actor, park) -> bool:
    """The park is operated by the actor's organisation (bureau roles read every park)."""
    if actor.role in BUREAU:
        return True
    return actor.organisation_id is not None and actor.organisation_id == park.operator_id


RULES = {
    "parks.read": Rule("park_operator", *BUREAU, check=operates),
    "parks.decide": Rule("park_operator", check=operates),
    "parks.join": Rule("sme"),
    "parks.manage": Rule("officer", "admin"),
}
