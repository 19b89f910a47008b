"""Two lawyers sharing a case in Debian's Chromium (Playwright), on SQLite and PostgreSQL: one on
a phone, one on a laptop, each logged in to the desk's own server on 127.0.0.1.

Maître Exemple takes a case, labels it and gives it to Maître Collègue, who replies; Maître
Exemple takes it over, puts it back in the queue, takes and closes it, finds it among the
closed cases by its label and reopens it; the person's data are downloaded from the case page.
The audit log records each step with the lawyer and the time; axe-core finds no serious
violation on the changed case page and on the search page.
"""

from __future__ import annotations

import re
from datetime import datetime

import test_desk_accessibility as a11y
from desk_testlib import handoff_tracker
from playwright.sync_api import Page, expect
from sqlalchemy import select

from desk import auth, cases
from desk.models import desk_audit

browser = a11y.browser
axe_source = a11y.axe_source
desk = a11y.desk
EMAIL, COLLEAGUE, PASSWORD = a11y.EMAIL, a11y.COLLEAGUE, a11y.PASSWORD


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/desk/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))


def test_two_lawyers_reassign_and_take_over_a_case_and_the_audit_log_records_it(
        desk, factory, domain, browser, axe_source, tmp_path) -> None:
    with factory.begin() as session:
        a = auth.set_lawyer(session, EMAIL, PASSWORD)
        auth.set_display_name(session, a, "Maître Exemple")
        b = auth.set_lawyer(session, COLLEAGUE, PASSWORD)
        auth.set_display_name(session, b, "Maître Collègue")
        case_id = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:7007", channel="webchat", urgence="P1",
            partie_adverse="commune de Béthune"))[0]
        cases.record_person_message(session, "web:7007", "Ma voisine construit un mur")
    phone = browser.new_context(viewport=a11y.PHONE, locale="fr-FR")
    laptop = browser.new_context(viewport=a11y.LAPTOP, locale="fr-FR")
    mine, hers = phone.new_page(), laptop.new_page()
    errors: list[str] = []
    problems: dict[str, list] = {}
    for page in (mine, hers):
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    case_url = f"{desk}/desk/cases/{case_id}"
    try:
        log_in(mine, desk, EMAIL)
        log_in(hers, desk, COLLEAGUE)
        mine.goto(case_url)
        hers.goto(case_url)
        a11y.live(mine)
        a11y.live(hers)
        mine.get_by_role("button", name="Prendre le dossier").click()
        expect(mine.locator("#case-state")).to_have_text("Pris en charge par vous")
        expect(hers.locator("#case-state")).to_have_text("Pris en charge par Maître Exemple")

        mine.get_by_label("Nouvelle étiquette").fill("voisinage")
        mine.get_by_role("button", name="Ajouter l'étiquette").click()
        expect(mine.locator("#label-list")).to_have_text(re.compile("voisinage"))
        expect(hers.locator("#label-list")).to_have_text(re.compile("voisinage"))  # live
        problems["case (mine, phone)"] = a11y.violations(mine, axe_source)
        mine.screenshot(path=str(tmp_path / "case-labelled-phone.png"), full_page=True)

        mine.get_by_label("Confier le dossier à").select_option(label="Maître Collègue")
        mine.get_by_role("button", name="Confier", exact=True).click()
        expect(mine.locator("#case-state")).to_have_text("Pris en charge par Maître Collègue")
        expect(mine.locator("#reply")).to_be_hidden()
        expect(hers.locator("#case-state")).to_have_text("Pris en charge par vous")
        hers.fill("#reply", "Bonjour, je suis l'avocate qui suit votre dossier.")
        hers.get_by_role("button", name="Envoyer la réponse").click()
        expect(mine.locator(".msg.lawyer .who")).to_contain_text("Maître Collègue")
        problems["case (hers, laptop)"] = a11y.violations(hers, axe_source)

        mine.get_by_role("button", name="Reprendre le dossier").click()
        expect(mine.locator("#case-state")).to_have_text("Pris en charge par vous")
        expect(hers.locator("#case-state")).to_have_text("Pris en charge par Maître Exemple")
        mine.get_by_role("button", name="Remettre dans la file").click()
        expect(mine.locator("#case-state")).to_have_text("En attente")
        mine.get_by_role("button", name="Prendre le dossier").click()
        expect(mine.locator("#case-state")).to_have_text("Pris en charge par vous")
        mine.get_by_role("button", name="Clore").click()
        expect(mine.locator("#case-state")).to_have_text("Répondu")
        expect(mine.get_by_role("button", name="Rouvrir le dossier")).to_be_visible()

        # The person's data, from the case page's links, as the lawyer downloads them.
        text_link = mine.get_by_role("link", name="texte lisible")
        reply = mine.request.get(desk + text_link.get_attribute("href"))
        assert reply.ok and "Ma voisine construit un mur" in reply.text()
        assert "Étiquettes : voisinage" in reply.text()
        data = mine.request.get(desk + mine.get_by_role("link", name="JSON")
                                .get_attribute("href")).json()
        assert data["cases"][0]["fact_card"]["partie_adverse"] == "commune de Béthune"

        # Closed cases: listed, found by their label, reopened.
        mine.get_by_role("link", name="Recherche").click()
        expect(mine.locator("#h-results")).to_contain_text("Dossiers clos")
        expect(mine.locator(f"#search-results [data-case-id='{case_id}']")).to_be_visible()
        mine.get_by_label("Étiquette").select_option("voisinage")
        mine.get_by_label("Mots de la fiche").fill("Bethune")
        mine.get_by_role("button", name="Rechercher").click()
        expect(mine.locator("#h-results")).to_contain_text("Résultats")
        row = mine.locator(f"#search-results [data-case-id='{case_id}']")
        expect(row).to_contain_text("voisinage")
        assert "Bethune" not in mine.url and "voisinage" not in mine.url
        assert not a11y.RAW_CODES.search(mine.locator("main").inner_text())
        assert mine.evaluate("document.documentElement.scrollWidth") <= a11y.PHONE["width"]
        problems["search (phone)"] = a11y.violations(mine, axe_source)
        mine.screenshot(path=str(tmp_path / "search-phone.png"), full_page=True)
        row.get_by_role("button", name="Rouvrir le dossier").click()
        expect(mine).to_have_url(re.compile(rf"/desk/cases/{case_id}$"))
        expect(mine.locator("#case-state")).to_have_text("Pris en charge par vous")
        hers.goto(f"{desk}/desk/search")
        hers.get_by_label("Mots de la fiche").fill("mur")
        hers.get_by_role("button", name="Rechercher").click()
        expect(hers.locator("#h-results")).to_contain_text("Résultats")
        expect(hers.locator("#search-results li")).to_have_count(0)  # the fact card only
        assert hers.url == f"{desk}/desk/search"  # the words are not in the address
        problems["search (laptop)"] = a11y.violations(hers, axe_source)
    finally:
        phone.close()
        laptop.close()
    assert {name: found for name, found in problems.items() if found} == {}
    assert errors == []

    with factory.begin() as session:
        rows = session.execute(
            select(desk_audit.c.lawyer_id, desk_audit.c.action, desk_audit.c.detail,
                   desk_audit.c.at)
            .where(desk_audit.c.case_id == case_id,
                   desk_audit.c.action.not_in(("case.read", "case.export")))
            .order_by(desk_audit.c.id)).all()
    steps = [(row.lawyer_id, row.action, row.detail) for row in rows]
    assert [(who, action) for who, action, _ in steps] == [
        (None, "case.opened"), (a, "case.take"), (a, "case.label_add"),
        (a, "case.reassign"), (b, "case.reply"), (a, "case.takeover"), (a, "case.release"),
        (a, "case.take"), (a, "case.close"), (a, "case.reopen")]
    assert steps[3][2] == f"to={b} from={a}" and steps[5][2] == f"from={b}"
    assert all(isinstance(row.at, datetime) for row in rows)
    assert [row.at for row in rows] == sorted(row.at for row in rows)
