"""Suggestions from the gaps: the catalogue's solutions for the weakest dimensions, ranked by what
similar enterprises (same industry and size class) did with them.  Every figure on the page is
recomputed here from the data set the test builds, independently of the query."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.maturity.conftest import answers_at
from tests.trials.conftest import build_solution
from voucher.calc.maturity import MIN_EVIDENCE
from voucher.enterprises.models import Enterprise
from voucher.extensions import db
from voucher.maturity import queries, services

WEAK = {"business": 4, "data": 2, "equipment": 1, "management": 4, "people": 3, "security": 4}


@pytest.fixture()
def dataset(flow, enterprise_user):
    """The SME (pumps and valves, small) weakest in equipment then data; solutions in the categories
    that address them and one that does not; trials by similar and by dissimilar enterprises."""
    def solution(category, title, status="listed"):
        s = build_solution(flow.provider_org, title=title)
        s.category, s.status = category, status
        return s

    mes_a = flow.solution
    mes_a.title = "MES A"
    mes_b = solution("mes", "MES B")
    remote = solution("remote_om", "Remote O&M")
    cloud = solution("cloud", "Cloud C")
    erp = solution("erp", "ERP E")            # addresses business, not a weak dimension
    gone = solution("mes", "MES gone", status="delisted")
    db.session.flush()
    # (solution, adopted, score, similar?, cancelled?) — one row per trial by a new enterprise
    plan = [(mes_a, True, "82.50", True, False), (mes_a, True, "77.00", True, False), (mes_a, False, None, True, False),
            (mes_a, None, None, True, False), (mes_a, True, "95.00", False, False),   # dissimilar: not counted
            (mes_b, True, "90.00", True, False), (mes_b, True, "88.00", True, False), (mes_b, True, None, True, False),
            (mes_b, False, "60.00", True, True),                                          # cancelled: not counted
            (remote, True, "99.00", True, False),                                          # one only: too little
            (erp, True, "90.00", True, False)]
    built = []
    for sol, adopted, score, similar, cancelled in plan:
        trial = flow.approved(solution=sol)
        trial.adopted = adopted
        trial.score = Decimal(score) if score else None
        if cancelled:
            trial.status = "cancelled"
        if not similar:
            db.session.get(Enterprise, trial.enterprise_id).industry = "eyewear"
        built.append((sol.id, trial.enterprise_id, adopted, score, similar, cancelled))
    db.session.flush()
    sme = enterprise_user()
    assessment = services.take_assessment(sme.actor(), answers_at(WEAK))
    return type("D", (), dict(sme=sme, assessment=assessment, built=built, mes_a=mes_a, mes_b=mes_b, remote=remote,
                              cloud=cloud, erp=erp, gone=gone))


def expected(built, solution_id):
    """The figures recomputed from the plan: similar, not cancelled trials of the solution."""
    rows = [r for r in built if r[0] == solution_id and r[4] and not r[5]]
    tried = len({r[1] for r in rows})
    decided = [r for r in rows if r[2] is not None]
    adopted = [r for r in rows if r[2] is True]
    scores = [Decimal(r[3]) for r in rows if r[3]]
    pct = (Decimal(len(adopted)) * 100 / len(decided)).quantize(Decimal("0.1")) if decided else None
    mean = (sum(scores) / len(scores)).quantize(Decimal("0.1")) if scores else None
    return tried, len(decided), len(adopted), pct, len(scores), mean


def test_the_weakest_dimensions_get_solutions_with_their_evidence(ctx, dataset):
    groups = queries.suggestions(dataset.assessment)
    assert [g.dimension for g in groups] == ["equipment", "data"]
    equipment = groups[0]
    ids = [s.solution.id for s in equipment.items]
    assert dataset.gone.id not in ids and dataset.erp.id not in ids and dataset.cloud.id not in ids
    # mes_b: 3 tried, 3 of 3 adopted (100%); mes_a: 4 tried, 2 of 3 (66.7%); remote: 1 tried → too little
    assert ids == [dataset.mes_b.id, dataset.mes_a.id, dataset.remote.id]
    for s in equipment.items:
        e = s.evidence
        assert (e.tried, e.decided, e.adopted, e.adoption_pct, e.scored, e.mean_score) == \
            expected(dataset.built, s.solution.id)
        assert e.enough == (e.tried >= MIN_EVIDENCE)
    # by hand: mes_a 4 tried, 2 of 3 decided kept it, scores 82.50 and 77.00 → 79.75 → 79.8 (half-up)
    assert expected(dataset.built, dataset.mes_a.id) == (4, 3, 2, Decimal("66.7"), 2, Decimal("79.8"))
    assert expected(dataset.built, dataset.mes_b.id) == (3, 3, 3, Decimal("100.0"), 2, Decimal("89.0"))
    data = groups[1]
    assert [s.solution.id for s in data.items] == [dataset.cloud.id]
    assert data.items[0].evidence.tried == 0 and not data.items[0].evidence.enough


def test_the_ranking_is_the_same_every_time(ctx, dataset):
    first = [[(s.solution.id, s.evidence) for s in g.items] for g in queries.suggestions(dataset.assessment)]
    for _ in range(3):
        assert [[(s.solution.id, s.evidence) for s in g.items] for g in queries.suggestions(dataset.assessment)] == first


def test_the_page_shows_the_counts_and_the_sme_applies_from_a_suggestion(ctx, client, login, dataset):
    login(dataset.sme)
    client.post("/lang", data={"lang": "en"})
    html = client.get(f"/maturity/{dataset.assessment.id}").get_data(as_text=True)
    for sol in (dataset.mes_a, dataset.mes_b, dataset.remote):
        tried, decided, adopted, pct, scored, mean = expected(dataset.built, sol.id)
        block = re.search(rf'data-solution="{sol.id}".*?</li>', html, re.S).group(0)
        assert f'data-tried="{tried}" data-decided="{decided}" data-adopted="{adopted}" data-scored="{scored}"' in block
        assert f"{tried} similar enterprises tried it" in block
        if pct is not None:
            assert f"{adopted} of the {decided} that decided kept using it ({pct}%)." in block
        if mean is not None:
            assert f"Mean evaluation score {mean} from {scored} evaluated trials." in block
        assert ("Too little evidence" in block) == (tried < MIN_EVIDENCE)
    assert "No similar enterprise has tried it yet: too little evidence." in html  # the cloud solution
    link = re.search(rf'data-apply href="([^"]*solution_id={dataset.mes_b.id})"', html).group(1)
    form = client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200 and "MES B" in form.get_data(as_text=True)
