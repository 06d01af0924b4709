"""Pages in a real browser: Debian's chromium driven by Playwright, on a live server.

Every page of every demo login is opened in both languages at 1366 px and at 390 px (a phone),
screenshotted under test-output/screenshots/<language>/<width>/, and checked by axe-core
(installed from the npm registry into tests/js, injected into the page: no CDN): no serious
or critical accessibility violation anywhere. Staff and manager pages must not scroll sideways
on a phone; the payouts list must show Total and Status at 1366 px.
"""

import json
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from commission.models import Payout, StatementQuery
from performance.models import Appeal, Appraisal, AppraisalCycle, CycleState, KciRating

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-output" / "screenshots"
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else ""
WIDTHS = {"desktop": 1366, "phone": 390}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which("chromium") and not os.path.exists(CHROMIUM),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: run `npm ci --prefix tests/js` (expected {AXE})")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def demo(live_server, request):
    """The demo company, its business words in the test's language (``language`` parameter, else English)."""
    callspec = getattr(request.node, "callspec", None)
    language = callspec.params.get("language", "en") if callspec else "en"
    call_command(
        "seed_demo", "--staff", "14", "--days", "35", "--seed", "3", "--tickets-per-day", "6", "--language", language
    )
    return live_server


CSP_WATCH = """
document.addEventListener("securitypolicyviolation",
  e => console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " on " + location.pathname));
"""


@pytest.fixture
def errors():
    """Console errors, uncaught script errors and Content Security Policy violations of every page a test opens."""
    return []


def _error(message) -> bool:
    """A console error. Not counted: a resource the browser asked for on its own (/favicon.ico), and
    the 403 and 404 statuses of the error pages a test opens on purpose (their statuses are asserted)."""
    if message.type != "error" or message.location.get("url", "").endswith("/favicon.ico"):
        return False
    return not re.search(r"status of 40[34]", message.text)


def login(browser, server, username, errors=None, *, width=1366, language="en"):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": server.url}])
    page = context.new_page()
    if errors is not None:
        page.add_init_script(CSP_WATCH)
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if _error(m) else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo12345")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def settle(page):
    """Wait until the page is drawn as its user sees it: loaded (every script run), its fonts in and
    one frame painted. The pages make no requests of their own after loading, so this is enough;
    Playwright's "networkidle" would add half a second of waiting to each of the suite's 150 pages."""
    page.wait_for_load_state("load")
    page.evaluate("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))")


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations of the page, as readable lines."""
    page.evaluate(AXE_SOURCE)  # through the DevTools protocol: the page's Content Security Policy stays as it is
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes'][:3]]}"
        for v in json.loads(result)["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sideways(page) -> int:
    """How far the page scrolls sideways, in px (0: it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def shoot(page, language, width_name, name):
    folder = OUT / language / width_name
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def pages_of(demo_ids):
    """(login, screenshot name, url, must fit a phone) for every page of every demo login."""
    d = demo_ids
    return [
        ("agent", "agent-my-results", "/me/", True),
        ("agent", "agent-appraisal", f"/appraisals/{d['agent_appraisal']}/", True),
        ("agent", "agent-statements-empty", "/commission/statements/", True),
        ("sales", "sales-my-results", "/me/", True),
        ("sales", "sales-statements", "/commission/statements/", True),
        ("sales", "sales-statement", f"/commission/statements/{d['payout']}/", True),
        ("sales", "sales-statement-print", f"/commission/statements/{d['payout']}/?print=1", True),
        ("manager", "manager-team", "/team/", True),
        ("manager", "manager-team-closed-cycle", f"/team/?cycle={d['closed']}", True),
        ("manager", "manager-rate", f"/team/{d['open']}/rate/{d['agent']}/", True),
        ("manager", "manager-my-results", "/me/", True),
        ("qa", "qa-queue", "/qa/", True),
        ("qa", "qa-dashboard", "/qa/dashboard/", True),
        ("hr", "hr-dashboard", "/hr/", True),
        ("hr", "hr-admin-index", "/admin/", False),
        ("hr", "hr-admin-cycles", "/admin/performance/appraisalcycle/", False),
        ("hr", "hr-admin-cycle", f"/admin/performance/appraisalcycle/{d['open']}/change/", False),
        ("hr", "hr-admin-close-confirm", f"/admin/performance/appraisalcycle/{d['open']}/close/", False),
        ("hr", "hr-admin-appraisals", f"/admin/performance/appraisal/?cycle__id__exact={d['closed']}", False),
        ("hr", "hr-admin-calibrate", f"/admin/performance/appraisal/{d['agent_appraisal']}/change/", False),
        ("hr", "hr-admin-appeal", f"/admin/performance/appeal/{d['appeal']}/change/", False),
        ("hr", "hr-admin-complaints", "/admin/performance/complaint/", False),
        ("hr", "hr-admin-staff", "/admin/performance/staff/", False),
        ("hr", "hr-admin-staff-import", "/admin/performance/staff/import/", False),
        ("finance", "finance-admin-index", "/admin/", False),
        ("finance", "finance-payouts", f"/admin/commission/payout/?cycle__id__exact={d['closed']}", False),
        ("finance", "finance-payout", f"/admin/commission/payout/{d['payout']}/change/", False),
        ("finance", "finance-question", f"/admin/commission/statementquery/{d['question']}/change/", False),
        ("finance", "finance-budget", f"/commission/budget/{d['closed']}/", True),
        ("finance", "finance-403", "/team/", True),
        ("agent", "agent-404", "/appraisals/999999/", True),
    ]


def _demo_ids():
    closed = AppraisalCycle.objects.get(state=CycleState.REVIEW)
    open_ = AppraisalCycle.objects.get(state=CycleState.OPEN)
    agent_appraisal = Appraisal.objects.get(staff__user__username="agent", cycle=closed)
    appeal = Appeal.objects.create(appraisal=agent_appraisal, reason="The QA sample missed my best week.")
    payout = Payout.objects.filter(staff__user__username="sales").first()
    question = StatementQuery.objects.create(payout=payout, line=payout.lines.first(), question="Why this rate?")
    return {
        "closed": closed.pk,
        "open": open_.pk,
        "agent": agent_appraisal.staff_id,
        "agent_appraisal": agent_appraisal.pk,
        "appeal": appeal.pk,
        "payout": payout.pk,
        "question": question.pk,
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_in_both_languages_at_desktop_and_phone_width_passes_axe(browser, demo, language, errors):
    # given: the demo company, an appeal and a statement question to decide
    ids = _demo_ids()
    problems = []
    for width_name, width in WIDTHS.items():
        pages = {}
        for username, name, url, phone in pages_of(ids):
            if username not in pages:
                pages[username] = login(browser, demo, username, errors, width=width, language=language)
            page = pages[username]
            # when
            response = page.goto(f"{demo.url}{url}")
            settle(page)
            shoot(page, language, width_name, name)
            # then
            expected = 403 if name.endswith("403") else 404 if name.endswith("404") else 200
            if response.status != expected:
                problems.append(f"{name} {width_name}: HTTP {response.status}")
            problems += [f"{name} {width_name}: {p}" for p in axe_problems(page)]
            if phone and width_name == "phone" and sideways(page) > 0:
                problems.append(f"{name} phone: scrolls sideways by {sideways(page)} px")
        for page in pages.values():
            page.context.close()
    problems += errors  # console errors, script errors and Content Security Policy violations
    (OUT / f"problems-{language}.txt").write_text("\n".join(problems), encoding="utf-8")
    assert problems == [], "\n".join(problems)


def test_payouts_list_shows_total_and_status_at_1366(browser, demo, errors):
    page = login(browser, demo, "finance", errors)
    assert page.url.endswith("/admin/commission/payout/")
    for column in ("column-total_shown", "column-status"):
        box = page.locator(f"th.{column}").first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, column
    assert sideways(page) == 0
    page.context.close()
    assert errors == []


def test_staff_breakdown_adds_up_statement_downloads_and_appeal(browser, demo, errors):
    page = login(browser, demo, "agent", errors)
    assert page.url.endswith("/me/")
    final = Decimal(page.inner_text("#final-score"))
    contributions = [
        Decimal(v)
        for v in page.eval_on_selector_all(
            "#breakdown td.contribution", "cells => cells.map(c => c.dataset.value).filter(v => v)"
        )
    ]
    assert contributions, "no contributions shown"
    # the contributions shown (each its exact value rounded once to 4 places) add up to the final
    # score (the exact sum rounded once to 2): within half a cent plus half a unit of the 4th place each
    assert abs(sum(contributions) - final) <= Decimal("0.005") + Decimal("0.00005") * len(contributions)
    page.fill("#reason", "The QA sample missed my best week.")
    page.click("#appeal button[type=submit]")
    page.wait_for_load_state()
    assert Appeal.objects.filter(appraisal__staff__user__username="agent").count() == 1
    assert "Your appeal was filed" in page.content()
    page.context.close()
    assert errors == []

    page = login(browser, demo, "sales", errors)
    page.goto(f"{demo.url}/commission/statements/")
    page.click("#my-statements a")
    page.wait_for_load_state()
    with page.expect_download() as info:
        page.click("#download-csv")
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0] == "kind,description,order,paid_in_cycle,base,rate,amount"
    assert "summary,total" in body
    page.context.close()
    assert errors == []


def test_manager_rates_in_chinese_and_a_bad_rating_keeps_what_was_typed(browser, demo, errors):
    page = login(browser, demo, "manager", errors, language="zh-hans")
    assert page.url.endswith("/team/")
    page.click("#missing-ratings a:text('评分')")  # the team page opens on the open cycle, where rating is due
    page.wait_for_load_state()
    fields = page.locator("#kci-form input[name^=rating_]")
    first, second = fields.nth(0), fields.nth(1)
    code = first.get_attribute("name").removeprefix("rating_")
    # an invalid second rating: nothing saved, both values still there
    first.fill("2.5")
    second.fill("9")
    page.click("#kci-form button[type=submit]")
    page.wait_for_load_state()
    assert first.input_value() == "2.5" and second.input_value() == "9"
    assert not KciRating.objects.filter(indicator=code, rating=Decimal("2.5")).exists()
    second.fill("4")
    page.click("#kci-form button[type=submit]")
    page.wait_for_load_state()
    assert KciRating.objects.filter(indicator=code, rating=Decimal("2.5")).exists()
    page.context.close()
    assert errors == []


def test_hr_closes_from_the_list_action_through_the_confirmation_page(browser, demo, errors):
    cycle = AppraisalCycle.objects.get(state=CycleState.OPEN)
    page = login(browser, demo, "hr", errors)
    assert page.url.endswith("/hr/")
    page.goto(f"{demo.url}/admin/performance/appraisalcycle/")
    page.check(f"input.action-select[value='{cycle.pk}']")
    page.select_option("select[name=action]", "close_cycles")
    page.click("button[type=submit][name=index], button.action-button, #changelist-actions button[type=submit]")
    page.wait_for_load_state()
    assert "runs until" in page.content() and AppraisalCycle.objects.get(pk=cycle.pk).state == CycleState.OPEN
    page.click("#confirm-close")
    page.wait_for_load_state()
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEW and cycle.progress_done == cycle.progress_total > 0
    assert f"{cycle.name} closed" in page.content()
    page.context.close()
    assert errors == []


def test_every_admin_page_passes_the_content_security_policy(browser, demo, errors):
    # given a superuser and the pages the admin opens: every list, an import, an export, a history page
    from django.contrib import admin
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.com", "demo12345")
    cycle = AppraisalCycle.objects.order_by("pk").first()
    paths = ["/hr/", "/team/", "/qa/dashboard/", "/admin/"]
    paths += [f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry]
    paths += [
        "/admin/performance/staff/import/",
        "/admin/performance/staff/export/",
        f"/admin/performance/appraisalcycle/{cycle.pk}/change/",
        f"/admin/performance/appraisalcycle/{cycle.pk}/history/",
        f"/admin/performance/appraisalcycle/{cycle.pk}/close/",
    ]
    # when each is opened
    page = login(browser, demo, "root", errors)
    for path in paths:
        response = page.goto(f"{demo.url}{path}")
        settle(page)
        assert response.status == 200, path
    page.context.close()
    # then no page logs an error or a policy violation (the admin's own, wider policy included)
    assert errors == []
