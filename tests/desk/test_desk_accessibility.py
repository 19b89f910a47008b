"""The desk in Debian's Chromium (Playwright) at phone (390×844) and laptop sizes: what a lawyer
reads, and an automated accessibility check (axe-core, vendored in tests/vendor/axe-core).

- axe-core finds no serious or critical violation (WCAG 2.x A and AA rules, contrast included)
  on the login, queue, case (before and after taking it), canned-reply and figures pages;
- the case page on a phone shows the deadline, the key facts and the reply box in the first
  screen; an overdue deadline reads « dépassée (03/12) » in red; no raw code (``nsp``,
  ``retention``, ``agent_public``, ``/affirm``) and no e-mail address on the pages; a colleague
  is named;
- a live refresh of the queue keeps the keyboard focus on the same control;
- the figures page shows its bar charts for a seeded month, and their numbers, its tables' and
  its summary's are those of ``GET /desk/api/figures`` and of a direct count in the database;
- the queue's notification controls (e-mail preference, browser notifications, sound) and a
  failed notification e-mail's line are named and pass the same check.

The desk's own server (pages, API, live events) on 127.0.0.1, on the test's database; the cases
are opened from trackers built of real events (desk_testlib), as the tracker store opens them.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from desk_testlib import handoff_tracker, serving
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sanic import Sanic

from desk import auth, canned, cases, figures, teamwork
from desk.channel import desk_blueprint

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "un mot de passe assez long"
EMAIL = "avocate@cabinet.example"
COLLEAGUE = "collegue@cabinet.example"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
# Thursday 4 December 2026, Paris: the case's deadline (3 December) is past.
FROZEN = "2026-12-04T10:00:00+01:00"
RAW_CODES = re.compile(r"\b(?:nsp|retention|agent_public|particulier|etrangers|urbanisme)\b"
                       r"|/affirm|/deny|@cabinet\.example")
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
}"""

expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"])
        yield found
        found.close()


@pytest.fixture
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "tests/vendor/axe-core changed"
    return data.decode("utf-8")


@pytest.fixture
def desk(factory, monkeypatch) -> Iterator[str]:
    """The desk's server on a thread of its own (its own event loop); yields its base URL."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv("PERMANENCE_FROZEN_NOW", FROZEN)
    # The permanence is on: its badge (« Permanence en cours ») is checked too.
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(ROOT / "tests" / "schedule_always_live.yml"))
    app = Sanic(f"desk_a11y_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    loop = asyncio.new_event_loop()
    ready, found = threading.Event(), {}

    async def main() -> None:
        found["stop"] = asyncio.Event()
        async with serving(app) as base:
            found["base"] = base
            ready.set()
            await found["stop"].wait()

    def run() -> None:
        loop.run_until_complete(main())
        # The pages' open event streams: ended with the loop, not left to a closed loop.
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0.1))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "the desk's server did not start"
    try:
        yield found["base"]
    finally:
        loop.call_soon_threadsafe(found["stop"].set)
        thread.join(30)
        loop.close()


def seed(factory, domain) -> dict[str, int]:
    """Two lawyers with names, a canned reply, and cases of several kinds."""
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, EMAIL, PASSWORD)
        auth.set_display_name(session, lawyer, "Maître Exemple")
        colleague = auth.set_lawyer(session, COLLEAGUE, PASSWORD)
        auth.set_display_name(session, colleague, "Maître Collègue")
        canned.add_reply(session, lawyer, "Délai de recours",
                         "Le délai de recours contentieux est de deux mois.")
        urgent = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "x:1001", channel="x", urgence="P0", domaine="etrangers",
            role="particulier", mesure_privative="retention", recours_gracieux="nsp",
            mention_voies_delais="nsp", type_decision="OQTF",
            partie_adverse="préfecture du Nord", echeance_estimee="2026-12-03",
            echeance_regle="48 heures (OQTF, rétention)"))[0]
        cases.record_person_message(session, "x:1001", "/affirm")
        held = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:2002", channel="webchat", urgence="P1", role="agent_public",
            domaine="fonction_publique", echeance_estimee="2026-12-09"))[0]
        cases.take(session, held, colleague)
        # A reply the channel could not deliver (« non remis »), and an internal note.
        cases.set_delivery(session, cases.reply(session, held, colleague, "Bonjour."), "failed")
        cases.note(session, held, colleague, "Rappeler demain.")
        teamwork.add_label(session, held, colleague, "à rappeler")
        cases.open_case_from_tracker(session, handoff_tracker(domain, "web:3003",
                                                              channel="webchat"))
        cases.record_person_message(session, "web:3003", "supprimez mes données")
        cases.flag_erasure_request(session, "web:3003")
        # A notification e-mail that could not be sent (desk/mail.py): shown on the queue.
        cases.audit(session, lawyer, urgent, "mail.failed",
                    "kind=case attempts=3 error=ConnectionRefusedError")
    return {"urgent": urgent, "held": held}


def violations(page: Page, axe_source: str) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {axe_source}\n; window.axe = axe; }}")
    found = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/desk/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))


def live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_text("en direct")


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_no_serious_accessibility_violation_and_clear_on_a_phone(
        desk, factory, domain, browser, axe_source, viewport, tmp_path) -> None:
    ids = seed(factory, domain)
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    problems: dict[str, list] = {}
    try:
        page.goto(f"{desk}/desk/login")
        problems["login"] = violations(page, axe_source)

        log_in(page, desk)
        live(page)
        row = page.locator(f"#queue-cases [data-case-id='{ids['urgent']}']")
        expect(row.locator(".deadline")).to_have_text("échéance estimée dépassée (03/12)")
        expect(page.locator(f"[data-case-id='{ids['held']}'] .state")).to_have_text(
            "Pris en charge par Maître Collègue")
        expect(page.locator(".erasure-requested")).to_have_count(1)
        expect(page.locator(f"[data-case-id='{ids['held']}'] .label")).to_have_text("à rappeler")
        expect(page.locator(".mail-failed")).to_contain_text("1 envoi en échec depuis 24 h")
        # The notification controls, named (and checked by axe with the rest of the page).
        expect(page.get_by_label("E-mail pour les nouveaux dossiers")).to_have_value("P0")
        expect(page.get_by_label("Son pour les nouveaux dossiers P0 et P1")).not_to_be_checked()
        expect(page.get_by_role("button", name="Activer les notifications du navigateur")
               ).to_be_visible()
        assert not RAW_CODES.search(page.locator("main").inner_text())
        problems["queue"] = violations(page, axe_source)

        row.locator("a.case-link").click()
        expect(page).to_have_url(re.compile(rf"/desk/cases/{ids['urgent']}$"))
        live(page)
        problems["case (waiting)"] = violations(page, axe_source)
        page.get_by_role("button", name="Prendre le dossier").click()
        expect(page.locator("#case-state")).to_have_text("Pris en charge par vous")
        expect(page.locator("#reply")).to_be_visible()
        problems["case (taken)"] = violations(page, axe_source)

        deadline = page.locator(".deadline-big .deadline")
        expect(deadline).to_have_text("dépassée (03/12)")
        assert deadline.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
        text = page.locator("main").inner_text()
        assert not RAW_CODES.search(text), RAW_CODES.search(text)
        for label in ("Rétention (CRA)", "Ne sait pas", "Particulier", "Oui (bouton)",
                      "Étrangers, titre de séjour"):
            assert label in text, label
        assert text.count("dépassée (03/12)") == 1  # the deadline once
        assert text.count("préfecture du Nord") == 1  # each fact once
        # The first screen (no scrolling): the deadline, the key facts, the reply box.
        page.screenshot(path=str(tmp_path / "case-first-screen.png"))
        assert page.evaluate("window.scrollY") == 0
        height = viewport["height"]
        for selector in (".deadline-big", ".key-facts", "#reply",
                         "#reply-form button[type=submit]"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, (selector, box)

        page.goto(f"{desk}/desk/canned")
        problems["canned"] = violations(page, axe_source)

        page.get_by_role("link", name="Chiffres").click()
        expect(page).to_have_url(re.compile(r"/desk/figures$"))
        expect(page.locator("#chart-tiers svg rect")).to_have_count(3)  # P0, P1, P2
        assert not RAW_CODES.search(page.locator("main").inner_text())
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        problems["figures"] = violations(page, axe_source)

        page.goto(f"{desk}/desk/cases/{ids['held']}")  # P1, a colleague's: named, not mailed
        expect(page.locator("#case-state")).to_have_text("Pris en charge par Maître Collègue")
        expect(page.locator("h1 .tier")).to_have_text("P1 · urgent")
        expect(page.locator("#schedule-badge")).to_have_text("Permanence en cours")
        expect(page.locator(".msg.lawyer .who")).to_contain_text("Maître Collègue")
        expect(page.locator(".msg.lawyer .delivery.failed")).to_have_text(
            "non remis (gardé au dossier)")
        expect(page.locator(".msg.note .who")).to_have_text(
            re.compile("^Note interne · Maître Collègue"))
        assert not RAW_CODES.search(page.locator("main").inner_text())
        problems["case (colleague's, P1)"] = violations(page, axe_source)
    finally:
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}


def test_a_referral_case_names_its_ordre_in_the_first_screen(desk, factory, domain, browser,
                                                              axe_source) -> None:
    """Out of public law: the case page says which Ordre des avocats the person was sent to,
    among the key facts in the phone's first screen, and axe finds nothing serious."""
    with factory.begin() as session:
        auth.set_lawyer(session, EMAIL, PASSWORD)
        referral = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:5005", channel="webchat", urgence="OUT", domaine="hors_champ",
            ordres=["Barreau d'Arras"]))[0]
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    try:
        log_in(page, desk)
        page.goto(f"{desk}/desk/cases/{referral}")
        live(page)
        facts = page.locator(".key-facts")
        expect(facts.locator("dt", has_text="Orientée vers")).to_have_count(1)
        expect(facts).to_contain_text("Ordre des avocats (Barreau d'Arras)")
        box = facts.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
        assert not RAW_CODES.search(page.locator("main").inner_text())
        assert violations(page, axe_source) == []
    finally:
        context.close()


def test_a_live_refresh_of_the_queue_keeps_the_keyboard_focus(desk, factory, domain,
                                                               browser) -> None:
    ids = seed(factory, domain)
    context = browser.new_context(viewport=LAPTOP, locale="fr-FR")
    page = context.new_page()
    try:
        log_in(page, desk)
        live(page)
        link = page.locator(f"[data-case-id='{ids['held']}'] a.case-link")
        link.focus()
        page.keyboard.press("Tab")  # the next case's link: where a keyboard user is
        focused = page.evaluate(
            "document.activeElement.closest('[data-case-id]').dataset.caseId")
        page.evaluate("window.deskSameDocument = true")
        with factory.begin() as session:  # a new case: the queue re-renders, live
            new = cases.open_case_from_tracker(session, handoff_tracker(
                domain, "x:4004", channel="x", urgence="P0"))[0]
        expect(page.locator(f"#queue-cases [data-case-id='{new}']")).to_be_visible()
        assert page.evaluate("window.deskSameDocument === true"), "the queue was reloaded"
        assert page.evaluate(
            "document.activeElement.matches('a.case-link') && "
            "document.activeElement.closest('[data-case-id]').dataset.caseId") == focused
        # A case leaving the list: the focus stays in the queue (its heading), not lost.
        with factory.begin() as session:
            cases.close(session, int(focused), auth.lawyer_id_by_email(session, COLLEAGUE)
                        if int(focused) == ids["held"] else
                        auth.lawyer_id_by_email(session, EMAIL), "nothing_to_answer")
        expect(page.locator(f"#queue-cases [data-case-id='{focused}']")).to_have_count(0)
        assert page.evaluate("document.getElementById('queue-live').contains("
                             "document.activeElement)")
    finally:
        context.close()


def test_the_figures_page_draws_a_seeded_month_as_the_api_and_the_database_count_it(
        desk, factory, domain, browser, tmp_path) -> None:
    from test_desk_figures import LILLE, MONTH, sql_counts
    from test_desk_figures import seed as seed_month

    seed_month(factory, domain)
    with factory.begin() as session:
        auth.set_lawyer(session, EMAIL, PASSWORD)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, desk)
        page.goto(f"{desk}/desk/figures?month={MONTH}")
        expect(page.locator("h1")).to_have_text("Chiffres du cabinet · décembre 2026")
        page.screenshot(path=str(tmp_path / "figures-phone.png"), full_page=True)
        api = page.request.get(f"{desk}/desk/api/figures?month={MONTH}")
        assert api.ok
        report = api.json()
        month = report["figures"]
        counted = sql_counts(factory, datetime.fromisoformat(report["from"]),
                             datetime.fromisoformat(report["to"]))
        assert (month["cases"], month["handovers"], month["referrals"]) == (
            counted["cases"], counted["handovers"], counted["referrals"]) == (10, 6, 4)

        summary = dict(zip(page.locator("#figures-summary dt").all_inner_texts(),
                           page.locator("#figures-summary dd").all_inner_texts(), strict=True))
        assert summary["Dossiers ouverts"] == str(counted["cases"])
        assert summary["Conversations"] == str(counted["conversations"])
        assert summary["Transmis à l'avocat"] == str(counted["handovers"])
        assert summary["Orientés vers un Ordre des avocats"] == str(counted["referrals"])
        assert summary["Encore ouverts"] == str(counted["still_open"])
        assert summary["Première réponse de l'avocat, médiane"] == "25 min"
        assert summary["Première réponse, 90 % en moins de"] == "2 h 00"

        charts = {"domains": counted["domains"], "tiers": counted["tiers"],
                  "ordres": counted["ordres"]}
        for key, expected in charts.items():
            chart = page.locator(f"#chart-{key}")
            expect(chart.locator("svg[role=img]")).to_be_visible()
            expect(chart.locator("svg rect")).to_have_count(len(expected))
            values = [int(v) for v in chart.locator("svg text[font-weight=bold]")
                      .all_text_contents()]
            cells = [int(v) for v in chart.locator("tbody td").all_inner_texts()]
            order = ([expected[t] for t in figures.TIERS if t in expected] if key == "tiers"
                     else sorted(expected.values(), reverse=True))  # tiers in their order
            assert values == cells == order, key
            box = chart.locator("svg").bounding_box()
            assert box is not None and box["width"] <= PHONE["width"]
        ordres = dict(zip(page.locator("#chart-ordres tbody th").all_inner_texts(),
                          page.locator("#chart-ordres tbody td").all_inner_texts(), strict=True))
        assert ordres[LILLE] == "2" == str(month["referrals_by_ordre"][LILLE])
        tiers = page.locator("#chart-tiers tbody th").all_inner_texts()
        assert "P0 · très urgent" in tiers and "Hors champ" in tiers
        assert not RAW_CODES.search(page.locator("main").inner_text())
        csv_reply = page.request.get(f"{desk}/desk/figures.csv?month={MONTH}")
        assert csv_reply.ok and f"month,{report['from']},{report['to']},cases,,10" in \
            csv_reply.text()
        assert errors == []  # the desk's script runs on the page without an error
    finally:
        context.close()
