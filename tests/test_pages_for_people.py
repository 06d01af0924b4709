"""What a person reads: words for codes, numbers by locale, menus by role, first-time states,
forms that keep work, and the Chinese a Chinese HR team would sign off."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from commission.definitions import plan_load
from commission.models import Payout, PayoutLine, PayoutStatus, StatementQuery
from performance.appraisal.selectors import kci_missing
from performance.appraisal.services import cycle_close, cycle_create, cycle_finalize
from performance.models import (
    Appeal,
    Appraisal,
    AppraisalTemplate,
    Indicator,
    Inspection,
    ProductCategory,
    Scorecard,
    SectionResult,
    Staff,
    Team,
)
from performance.qa.sampling import qa_sample
from tests.factories import PLAN, OrderFactory, StaffFactory, TicketFactory, UserFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(agent_template):
    plan_load(data=PLAN)
    ProductCategory.objects.create(code="cloud_server", name="Cloud server")
    team = Team.objects.create(name="Desk")
    boss = StaffFactory(
        employee_no="M1", role="manager", team=team, user=UserFactory(username="m1", groups=["Staff", "Manager"])
    )
    alice = StaffFactory(employee_no="A1", team=team, manager=boss)
    seller = StaffFactory(employee_no="S1", role="sales", team=team, manager=boss)
    for i in range(6):
        TicketFactory(staff=alice, created_at=local(2026, 1, 3 + i, 10), rating=5, subject=f"Refund question {i}")
    OrderFactory(staff=seller, amount=Decimal("12345.60"), paid_at=local(2026, 1, 5))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    return {"boss": boss, "alice": alice, "seller": seller, "cycle": cycle, "team": team}


def page(client, user, url, language="en"):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    return response.status_code, response.content.decode()


def test_every_model_says_what_it_is_in_words(company):
    # given
    alice, cycle = company["alice"], company["cycle"]
    appraisal = Appraisal.objects.get(staff=alice)
    payout = Payout.objects.get(staff=company["seller"])
    line = payout.lines.filter(kind="order").first()
    # when / then: no "object (1)" anywhere a person reads a reference
    assert str(Appeal(appraisal=appraisal, reason="x")) == f"Appeal of A1 {alice.name} on 2026-01"
    assert str(line) == f"2026-01 · S1 {company['seller'].name} · Cloud server sales · Order · {line.label}"
    assert "Cloud server" in line.label and "cloud_server" not in line.label
    query = StatementQuery.objects.create(payout=payout, line=line, question="why?")
    assert str(query) == f"Question from S1 {company['seller'].name} on 2026-01: {line.label}"
    assert str(SectionResult.objects.filter(appraisal=appraisal).first()).endswith("KPI (measurable)")
    assert str(Indicator.objects.get(code="frt")) == "frt"  # the factory's indicator has no name: its code
    assert str(cycle) == "2026-01"


def test_pages_show_grades_items_and_categories_in_words_and_numbers_by_locale(client, company):
    # given
    payout = Payout.objects.get(staff=company["seller"])
    # when
    _status, statement = page(client, company["seller"].user, f"/commission/statements/{payout.pk}/")
    _status, statement_zh = page(client, company["seller"].user, f"/commission/statements/{payout.pk}/", "zh-hans")
    _status, me = page(client, company["alice"].user, "/me/")
    # then: rates in %, thousands separators, currency on every amount, multipliers to what matters
    assert "CN¥12,345.60" in statement and '<td class="num">10%</td>' in statement
    assert '<strong id="statement-total">CN¥1,234.56</strong>' in statement
    assert "×1" in statement and "1.00000000" not in statement
    assert '<strong id="statement-total">¥1,234.56</strong>' in statement_zh
    # grades in words, the raw rate as a percentage next to a rule written in %
    assert "needs_improvement" not in me and "not_rated" not in me
    assert "100%" in me and "0.8776" not in me


def test_a_finalized_cycle_lists_no_missing_rating_and_a_closed_one_not_for_later_joiners(company):
    # given: a member who joins after the close
    cycle = company["cycle"]
    cycle.refresh_from_db()  # closed
    StaffFactory(employee_no="LATE", team=company["team"])
    # when / then: the closed cycle does not ask for the late joiner's ratings
    assert "LATE" not in {m.employee_no for m, _item in kci_missing(cycle=cycle)}
    assert {m.employee_no for m, _item in kci_missing(cycle=cycle)} == {"A1"}
    # when the cycle is finalized, nothing is missing any more
    cycle_finalize(cycle=cycle, actor=None)
    cycle.refresh_from_db()
    assert kci_missing(cycle=cycle) == []


def test_the_team_page_opens_on_the_cycle_that_needs_action(client, company):
    # given: an open cycle after the closed one
    open_cycle = cycle_create(name="2026-02", start=datetime.date(2026, 2, 1), end=datetime.date(2026, 3, 1))
    # when
    _status, team = page(client, company["boss"].user, "/team/")
    # then: the open cycle, with its missing ratings one click away
    assert "<h1>My team · 2026-02" in team
    assert f"/team/{open_cycle.pk}/rate/{company['alice'].pk}/" in team


def test_menus_offer_only_what_the_login_may_open_and_403_has_a_way_back(client, company):
    # given
    finance = UserFactory(username="fin", groups=["Finance"], is_staff=True)
    # when
    _status, budget = page(client, finance, f"/commission/budget/{company['cycle'].pk}/")
    status, forbidden = page(client, finance, "/team/")
    # then
    assert 'href="/team/"' not in budget.split('id="main-nav"')[1].split("</nav>")[0]
    assert status == 403 and 'id="error-403"' in forbidden and 'href="/"' in forbidden
    assert 'rel="icon"' in forbidden
    _status, manager_page = page(client, company["boss"].user, "/me/")
    assert 'href="/team/"' in manager_page


def test_first_time_states_say_why(client, company):
    # given: Alice's role is paid by no plan; one cycle so far
    # when
    _status, statements = page(client, company["alice"].user, "/commission/statements/")
    _status, me = page(client, company["alice"].user, "/me/")
    # then
    assert "No commission plan pays your role (Customer-service agent)" in statements
    assert 'id="trend-one"' in me and "The next cycles will draw a line." in me


def test_an_adjustment_on_a_paid_payout_is_refused_beside_the_field_and_the_answer_is_kept(client, company):
    # given: a paid payout and a question on it
    payout = Payout.objects.get(staff=company["seller"])
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID)
    query = StatementQuery.objects.create(payout=payout, question="Is the refund counted?")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    # when
    response = client.post(
        f"/admin/commission/statementquery/{query.pk}/change/",
        {"answer": "Yes, see line 3.", "adjustment": "50.00"},
        follow=True,
    )
    # then
    body = response.content.decode()
    assert "an adjustment can only be added before approval" in body
    assert "Yes, see line 3." in body and "successfully" not in body
    query.refresh_from_db()
    assert query.answer == "" and not PayoutLine.objects.filter(payout=payout, kind="adjustment").exists()


def test_the_qa_queue_shows_the_subject_and_the_link_and_the_saved_result(client, company):
    # given: a sampled ticket with a link to its conversation
    qa_sample(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), rate="1")
    inspection = Inspection.objects.select_related("ticket").first()
    inspection.ticket.url = "https://helpdesk.example.com/t/1"
    inspection.ticket.save()
    inspector = StaffFactory(
        employee_no="Q1", role="inspector", user=UserFactory(username="q1", groups=["Staff", "QA"])
    )
    # when
    _status, queue = page(client, inspector.user, "/qa/")
    # then
    assert inspection.ticket.subject in queue and 'href="https://helpdesk.example.com/t/1"' in queue
    items = {i.code: i.pk for i in inspection.scorecard.items.all()}
    response = client.post(
        "/qa/", {"inspection": inspection.pk, **{f"item_{pk}": "90" for pk in items.values()}}, follow=True
    )
    assert f"Inspection of {inspection.ticket.external_id} saved: 90.00, passed." in response.content.decode()


def test_chinese_says_评分_for_rating_someone_and_translates_admin_headers_and_filters(client, company):
    # given
    root = UserFactory(username="root2", is_staff=True, is_superuser=True)
    # when
    _status, team = page(client, company["boss"].user, f"/team/?cycle={company['cycle'].pk}", "zh-hans")
    _status, admin_list = page(client, root, "/admin/performance/appraisal/", "zh-hans")
    # then
    assert ">评分</a>" in team and "费率" not in team
    assert "排序方式" in team and "按排名（默认）" in team
    for word in ("员工", "周期", "得分", "等级", "排名", "已校准"):
        assert word in admin_list, word
    assert "以 cycle" not in admin_list and "Staff member" not in admin_list


@pytest.mark.django_db(transaction=True)
def test_a_chinese_demo_seeds_its_business_words_in_chinese_and_inspectors_are_not_agents():
    # when
    call_command("seed_demo", "--staff", "14", "--days", "20", "--seed", "2", "--language", "zh-hans")
    # then
    assert AppraisalTemplate.objects.get(code="douyin-cs").name == "客服专员（抖音标准）"
    assert Indicator.objects.filter(code="problem_handling").first().name == "问题处理"
    assert Scorecard.objects.get(code="default").name == "标准质检评分表"
    assert dict(ProductCategory.objects.values_list("code", "name"))["cloud_server"] == "云服务器"
    qa = Staff.objects.get(user__username="qa")
    assert qa.role == "inspector" and not Appraisal.objects.filter(staff=qa).exists()
    assert User.objects.get(username="qa").check_password("demo12345")
    assert set(User.objects.get(username="qa").groups.values_list("name", flat=True)) == {"Staff", "QA"}
