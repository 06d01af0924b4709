"""Pages in a real browser: Debian's chromium driven by Playwright, on a live server."""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from performance.models import Appeal, AppraisalCycle, CycleState, KciRating

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"

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
def demo(live_server):
    call_command("seed_demo", "--staff", "14", "--days", "35", "--seed", "3", "--tickets-per-day", "6")
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
    """A console error, except the browser's own request for a favicon (the site has none yet)."""
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


def watched(browser, errors):
    page = browser.new_page(accept_downloads=True)
    page.add_init_script(CSP_WATCH)
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if _error(m) else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    return page


def login(browser, server, username, errors):
    page = watched(browser, errors)
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo12345")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


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
    page.screenshot(path=OUT / "staff-results.png", full_page=True)
    page.fill("#reason", "The QA sample missed my best week.")
    page.click("#appeal button[type=submit]")
    page.wait_for_load_state()
    assert Appeal.objects.filter(appraisal__staff__user__username="agent").count() == 1
    assert "Your appeal was filed" in page.content()
    page.close()

    page = login(browser, demo, "sales", errors)
    page.goto(f"{demo.url}/commission/statements/")
    page.click("table a")
    page.wait_for_load_state()
    page.screenshot(path=OUT / "statement.png", full_page=True)
    with page.expect_download() as info:
        page.click("#download-csv")
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0] == "kind,description,order,paid_in_cycle,base,rate,amount"
    assert "summary,total" in body
    page.close()
    assert errors == []


def test_manager_rates_a_kci_item(browser, demo, errors):
    page = login(browser, demo, "manager", errors)
    assert page.url.endswith("/team/")
    page.screenshot(path=OUT / "manager-team.png", full_page=True)
    page.click("#team-results a:text('rate')")
    page.wait_for_load_state()
    field = page.locator("#kci-form input[type=number]").first
    code = field.get_attribute("name").removeprefix("rating_")
    field.fill("2.5")
    page.click("#kci-form button[type=submit]")
    page.wait_for_load_state()
    assert "Ratings saved" in page.content()
    assert KciRating.objects.filter(indicator=code, rating=Decimal("2.5")).exists()
    page.close()
    assert errors == []


def test_hr_closes_a_cycle_from_the_admin_and_sees_it_in_review(browser, demo, errors):
    cycle = AppraisalCycle.objects.get(state=CycleState.OPEN)
    page = login(browser, demo, "hr", errors)
    assert page.url.endswith("/hr/")
    page.screenshot(path=OUT / "hr-dashboard.png", full_page=True)
    page.goto(f"{demo.url}/admin/performance/appraisalcycle/{cycle.pk}/change/")
    page.click("#close-cycle")
    page.wait_for_load_state()
    page.screenshot(path=OUT / "close-confirm.png", full_page=True)
    assert "has not ended" in page.content() or "runs until" in page.content()
    page.click("#confirm-close")
    page.wait_for_selector("#cycle-state[data-state=review]", timeout=30_000)
    page.screenshot(path=OUT / "cycle-review.png", full_page=True)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEW and cycle.progress_done == cycle.progress_total > 0
    page.close()
    assert errors == []


def test_pages_switch_to_chinese(browser, demo, errors):
    page = login(browser, demo, "agent", errors)
    with page.expect_navigation():
        page.select_option("#language", "zh-hans")
    assert "得分是怎么算出来的" in page.content()
    page.screenshot(path=OUT / "staff-results-zh.png", full_page=True)
    page.close()
    assert errors == []


def test_every_page_passes_the_content_security_policy(browser, demo, errors):
    # given a superuser and HR, and the pages they open: the site's, every admin list, an import,
    # an export and a history page
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
        assert response.status == 200, path
    page.close()
    page = login(browser, demo, "agent", errors)
    for path in ["/me/", "/commission/statements/"]:
        page.goto(f"{demo.url}{path}")
    page.close()
    # then no page logs an error or a policy violation
    assert errors == []
