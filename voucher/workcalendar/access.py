"""Who may read and enter the working-day calendar."""
from voucher.access import BUREAU, Rule

RULES = {
    "workcalendar.read": Rule(*BUREAU, "admin"),
    "workcalendar.enter": Rule("officer"),
}
