"""Pages: each login sees only what it may; guessed ids answer 404; query counts stay flat."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from commission.definitions import plan_load
from commission.models import Payout
from performance.appraisal.services import cycle_close, cycle_create, cycle_finalize
from performance.models import Appraisal, Inspection, KciRating, Team
from performance.qa.sampling import qa_sample
from performance.qa.services import inspection_submit
from tests.factories import PLAN, OrderFactory, StaffFactory, TicketFactory, UserFactory, local
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(agent_template):
    plan_load(data=PLAN)
    root = Team.objects.create(name="Root")
    team_a = Team.objects.create(name="A", parent=root)
    sub_a = Team.objects.create(name="A-1", parent=team_a)
    team_b = Team.objects.create(name="B", parent=root)
    boss = StaffFactory(
        employee_no="M1", role="manager", team=team_a, user=UserFactory(username="m1", groups=["Staff", "Manager"])
    )
    alice = StaffFactory(employee_no="A1", team=sub_a, manager=boss)
    bob = StaffFactory(employee_no="B1", team=team_b)
    seller = StaffFactory(employee_no="S1", role="sales", team=team_b)
    for member in (alice, bob):
        for i in range(6):
            TicketFactory(staff=member, created_at=local(2026, 1, 3 + i, 10), rating=5)
    OrderFactory(staff=seller, paid_at=local(2026, 1, 5))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    return {"boss": boss, "alice": alice, "bob": bob, "seller": seller, "cycle": cycle}


def as_user(client, member):
    client.force_login(member.user)
    return client


def test_staff_see_their_own_breakdown_and_nobody_elses(client, company):
    as_user(client, company["alice"])
    mine = Appraisal.objects.get(staff=company["alice"])
    theirs = Appraisal.objects.get(staff=company["bob"])
    assert client.get("/me/").status_code == 200
    assert client.get(f"/appraisals/{mine.pk}/").status_code == 200
    assert client.get(f"/appraisals/{theirs.pk}/").status_code == 404
    assert client.post(f"/appraisals/{theirs.pk}/appeal/", {"reason": "x"}).status_code == 404
    assert client.get("/team/").status_code == 403
    assert client.get("/hr/").status_code == 403


def test_managers_see_their_subtree_only(client, company):
    as_user(client, company["boss"])
    alice = Appraisal.objects.get(staff=company["alice"])
    bob = Appraisal.objects.get(staff=company["bob"])
    assert client.get(f"/appraisals/{alice.pk}/").status_code == 200
    assert client.get(f"/appraisals/{bob.pk}/").status_code == 404
    page = client.get("/team/").content.decode()
    # the rendered cells, not bare "B1", which a random CSRF token can contain
    assert "<small>A1</small>" in page and "<small>B1</small>" not in page
    cycle = company["cycle"]
    assert client.get(f"/team/{cycle.pk}/rate/{company['alice'].pk}/").status_code == 200
    assert client.get(f"/team/{cycle.pk}/rate/{company['bob'].pk}/").status_code == 404


def test_statements_are_private(client, company):
    payout = Payout.objects.get(staff=company["seller"])
    as_user(client, company["seller"])
    page = client.get(f"/commission/statements/{payout.pk}/")
    assert page.status_code == 200
    assert '<td class="num">10%</td>' in page.content.decode()  # rates shown as percentages
    body = client.get(f"/commission/statements/{payout.pk}.csv").content.decode("utf-8-sig")
    assert "summary,total,,,,,100.00" in body  # 1000.00 × 10% (no tickets: modifiers 1)
    as_user(client, company["alice"])
    assert client.get(f"/commission/statements/{payout.pk}/").status_code == 404
    assert client.get(f"/commission/statements/{payout.pk}.csv").status_code == 404


def test_each_demo_role_lands_somewhere_sensible(client, company):
    hr = UserFactory(username="hr", groups=["HR"], is_staff=True)
    fin = UserFactory(username="fin", groups=["Finance"], is_staff=True)
    landings = {}
    for user in (hr, fin, company["boss"].user, company["alice"].user):
        client.force_login(user)
        landings[user.username] = client.get("/", follow=True).redirect_chain[-1][0]
    assert landings == {"hr": "/hr/", "fin": "/admin/commission/payout/", "m1": "/team/", "A1": "/me/"}


def test_healthz_answers_status_only_and_details_to_a_superuser(client, settings):
    # when anyone asks
    response = client.get("/healthz")
    # then the status only
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    # when a logged-in superuser asks, each check too
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    details = client.get("/healthz").json()
    assert details["status"] == details["database"] == "ok"
    assert details["broker"] == ("ok" if settings.CELERY_BROKER_URL else "in-process")


@pytest.mark.parametrize("extra", [0, 40])
def test_team_page_query_count_is_pinned_at_two_sizes(client, company, extra):
    hr = UserFactory(username="hr2", groups=["HR"])
    client.force_login(hr)
    cycle = company["cycle"]
    for i in range(extra):
        member = StaffFactory(employee_no=f"X{i:03d}")
        TicketFactory(staff=member, created_at=local(2026, 1, 9, 10))
    if extra:
        cycle_close(inline=True, cycle=cycle)
    with assert_num_queries(PAGE_QUERIES["/team/"]):
        assert client.get(f"/team/?cycle={cycle.pk}").status_code == 200
    assert Appraisal.objects.filter(cycle=cycle).count() >= extra


def test_qa_pages_are_for_inspectors_and_disputes_only_for_the_agent(client, company):
    qa_sample(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    inspection = Inspection.objects.select_related("ticket__staff").first()
    other = company["bob"] if inspection.ticket.staff == company["alice"] else company["alice"]
    as_user(client, other)
    assert client.get("/qa/").status_code == 403
    assert client.get("/qa/dashboard/").status_code == 403
    assert client.post(f"/qa/inspections/{inspection.pk}/dispute/", {"reason": "x"}).status_code == 404
    inspector = StaffFactory(employee_no="Q9", user=UserFactory(username="q9", groups=["Staff", "QA"]))
    as_user(client, inspector)
    page = client.get("/qa/")
    assert page.status_code == 200 and "Save and next" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_every_page_answers_for_every_demo_login_in_both_languages(client):
    call_command("seed_demo", "--staff", "14", "--days", "20", "--seed", "2", "--tickets-per-day", "4")

    payout = Payout.objects.filter(staff__user__username="sales").first()
    pages = {
        "agent": ["/me/", "/commission/statements/"],
        "sales": ["/me/", "/commission/statements/", f"/commission/statements/{payout.pk}/?print=1"],
        "manager": ["/team/", "/me/"],
        "qa": ["/qa/", "/qa/dashboard/"],
        "hr": ["/hr/", "/team/", "/admin/", "/admin/performance/appraisalcycle/", "/admin/performance/complaint/"],
        "finance": ["/admin/commission/payout/", f"/commission/budget/{payout.cycle_id}/"],
    }

    for language in ("en", "zh-hans"):
        for username, urls in pages.items():
            client.force_login(User.objects.get(username=username))
            client.cookies["django_language"] = language
            for url in urls:
                response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, (language, username, url, response.status_code)
            client.logout()


# the login's groups are read once per request (the permission matrix caches them on the login);
# the team page reads the members of the missing ratings it shows (at most 100) in one query
PAGE_QUERIES = {"/team/": 19, "/me/": 12, "/hr/": 14}


@pytest.mark.parametrize("extra", [0, 30])
@pytest.mark.parametrize("url", ["/me/", "/hr/"])
def test_personal_and_hr_pages_have_pinned_query_counts_at_two_sizes(client, company, url, extra):
    hr = UserFactory(username="hr3", groups=["HR"])
    member = company["alice"]
    for _i in range(extra):
        TicketFactory(staff=member, created_at=local(2026, 1, 10, 10), rating=3)
    if extra:
        cycle_close(inline=True, cycle=company["cycle"])
    client.force_login(member.user if url == "/me/" else hr)
    with assert_num_queries(PAGE_QUERIES[url]):
        assert client.get(url).status_code == 200


def test_my_results_show_each_inspection_item_score(client, company):
    qa_sample(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    inspection = Inspection.objects.select_related("ticket__staff", "scorecard").first()
    items = {i.code: i.pk for i in inspection.scorecard.items.all()}
    inspector = StaffFactory(employee_no="Q7", user=UserFactory(username="q7", groups=["Staff", "QA"]))
    inspection_submit(
        inspection=inspection,
        actor=inspector.user,
        scores={items["speed"]: 100, items["accuracy"]: 90, items["attitude"]: None, items["sop"]: 85},
    )
    as_user(client, inspection.ticket.staff)
    page = client.get("/me/").content.decode()
    assert "Response speed 100" in page and "Attitude and language n/a" in page


def test_the_kci_form_is_all_or_nothing_and_keeps_what_was_typed(client, company):
    # given: an open cycle where the boss rates Alice
    cycle = cycle_create(name="2026-02", start=datetime.date(2026, 2, 1), end=datetime.date(2026, 3, 1))
    as_user(client, company["boss"])
    url = f"/team/{cycle.pk}/rate/{company['alice'].pk}/"
    # when: the one item is out of scale
    response = client.post(url, {"rating_attitude": "9", "comment_attitude": "great attitude"})
    # then: nothing saved, the form again with what was typed and the error beside the item
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="9"' in page and 'value="great attitude"' in page
    assert "Nothing was saved" in page and "9 is outside 0–5" in page and "successfully" not in page
    assert not KciRating.objects.filter(cycle=cycle).exists()


def test_a_locked_cycle_shows_its_lock_before_any_typing(client, company):
    # given: the closed cycle is finalized
    cycle = company["cycle"]
    cycle_finalize(cycle=cycle, actor=None)
    as_user(client, company["boss"])
    # when
    page = client.get(f"/team/{cycle.pk}/rate/{company['alice'].pk}/").content.decode()
    # then: the lock is said first and the fields are disabled
    assert 'id="lock-note"' in page and "is finalized" in page
    assert "disabled" in page and "Save ratings" not in page
