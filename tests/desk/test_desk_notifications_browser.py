"""A P0 case arriving while a lawyer has the desk open, in Debian's Chromium (Playwright): the
page raises a browser notification (the Notifications API, allowed for the desk's origin;
an init script records what the page's own code constructs), the optional sound plays for
P0/P1 only, and the tab's title counts every section; the lawyer is mailed too, through a
real SMTP server on 127.0.0.1 (aiosmtpd). The case is opened as in the Rasa process: by the
tracker store's hook (desk/hooks.py), on the desk server's process.
"""
# ruff: noqa: F811 - the fixtures imported from test_desk_accessibility and test_desk_mail

from __future__ import annotations

import asyncio
import re
import threading
import time

from desk_testlib import handoff_tracker
from playwright.sync_api import expect
from test_desk_accessibility import (  # noqa: F401 - fixtures
    COLLEAGUE,
    EMAIL,
    LAPTOP,
    browser,
    desk,
    live,
    log_in,
    seed,
)
from test_desk_mail import only_the_pointer, smtp  # noqa: F401 - a fixture

from desk import auth, cases, hooks, mail

RECORDER = """
window.__notes = [];
window.__asked = 0;
window.__tones = 0;
if (window.Notification) {
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notes.push({title: title, body: options && options.body,
                           tag: options && options.tag});
      super(title, options);
    }
  }
  Recorded.requestPermission = function () {
    window.__asked++;
    return Real.requestPermission.apply(Real, arguments);
  };
  window.Notification = Recorded;
}
if (window.AudioContext) {
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__tones++;
    return make.call(this);
  };
}
"""


def arrive(desk_url: str, domain, sender: str, **slots) -> None:
    """The handover's turn saved: the hook opens the case (in this process, as Rasa does)."""
    tracker = handoff_tracker(domain, sender, channel="x", metadata={"screen_name": "marie_59"},
                              **slots)
    # On a thread of its own: Playwright's sync API holds this thread's event loop.
    done = threading.Thread(target=asyncio.run,
                            args=(hooks.on_tracker_saved(desk_url, tracker, tracker.events),))
    done.start()
    done.join(60)
    mail.drain(timeout=30)


def until(page, expression: str, seconds: float = 30.0) -> None:
    """Wait until ``expression`` holds in the page (wait_for_function would need the CSP's
    'unsafe-eval', which the desk refuses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(100)


def seed_sections(factory, domain) -> None:
    """Besides the queue: a referral (out of scope) and a possible conflict of interest."""
    with factory.begin() as session:
        cases.add_client(session, "Commune d'Arras")
        cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:5005", domaine="hors_champ", urgence="OUT"))
        cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:6006", partie_adverse="mairie d'Arras"))


def test_a_p0_case_arriving_is_mailed_notified_and_counted(desk, desk_url, factory, domain,
                                                           browser, smtp):
    seed(factory, domain)
    seed_sections(factory, domain)
    context = browser.new_context(viewport=LAPTOP, locale="fr-FR")
    context.grant_permissions(["notifications"], origin=desk)
    context.add_init_script(RECORDER)
    page = context.new_page()
    try:
        log_in(page, desk)
        live(page)
        # Three cases in the queue, a referral, a conflict: five, in the title.
        expect(page.locator("#queue-referrals [data-case-id]")).to_have_count(1)
        expect(page.locator("#queue-flagged [data-case-id]")).to_have_count(1)
        expect(page).to_have_title("(5) File · Permanence")
        # Allowed for this origin: no button, no question asked on load; the sound is off.
        expect(page.locator("#notify-state")).to_have_text(
            "Notifications du navigateur : activées.")
        expect(page.locator("#notify-permission")).to_be_hidden()
        assert page.evaluate("window.__asked") == 0
        sound = page.get_by_label("Son pour les nouveaux dossiers P0 et P1")
        expect(sound).not_to_be_checked()
        sound.check()  # plays once, and is remembered
        page.reload()
        live(page)
        expect(page.get_by_label("Son pour les nouveaux dossiers P0 et P1")).to_be_checked()
        assert page.evaluate("window.__notes.length + window.__tones") == 0

        arrive(desk_url, domain, "x:9009", urgence="P0", domaine="etrangers",
               partie_adverse="préfecture du Nord", type_decision="OQTF")
        with factory.begin() as session:
            new = cases.open_case_id(session, "x:9009")
        expect(page.locator(f"#queue-cases [data-case-id='{new}']")).to_be_visible()
        expect(page).to_have_title("(6) File · Permanence")
        until(page, "window.__notes.length === 1")
        [note] = page.evaluate("window.__notes")
        assert note == {"title": "Nouveau dossier P0 · très urgent",
                        "body": f"Étrangers, titre de séjour · dossier n° {new}",
                        "tag": f"permanence-case-{new}"}
        assert page.evaluate("window.__tones") == 2  # two short tones
        # And the e-mail, to each lawyer (their preference is the default: P0 only).
        assert sorted(rcpt for rcpt, _ in smtp.messages) == [[EMAIL], [COLLEAGUE]]
        for _, message in smtp.messages:
            only_the_pointer(message, new)

        # A P2 case: notified, no sound, no e-mail for a P0-only lawyer.
        arrive(desk_url, domain, "x:9010", urgence="P2")
        until(page, "window.__notes.length === 2")
        expect(page).to_have_title("(7) File · Permanence")
        assert page.evaluate("window.__notes[1].title") == "Nouveau dossier P2"
        assert page.evaluate("window.__tones") == 2
        assert len(smtp.messages) == 2
    finally:
        context.close()


def test_the_case_page_announces_a_new_case_too(desk, desk_url, factory, domain,
                                                browser):
    ids = seed(factory, domain)
    context = browser.new_context(viewport=LAPTOP, locale="fr-FR")
    context.grant_permissions(["notifications"], origin=desk)
    context.add_init_script(RECORDER)
    page = context.new_page()
    try:
        log_in(page, desk)
        page.goto(f"{desk}/desk/cases/{ids['held']}")
        live(page)
        arrive(desk_url, domain, "x:9011", urgence="P1", domaine="urbanisme")
        until(page, "window.__notes.length === 1")
        assert page.evaluate("window.__notes[0].title") == "Nouveau dossier P1 · urgent"
        assert page.evaluate("window.__tones") == 0  # the sound is off by default
    finally:
        context.close()


def test_permission_is_asked_from_the_button_only(desk, factory, domain, browser,
                                                  monkeypatch):
    seed(factory, domain)
    with factory.begin() as session:
        who = auth.lawyer_id_by_email(session, EMAIL)
        assert mail.preference(session, who) == "P0"
    context = browser.new_context(viewport=LAPTOP, locale="fr-FR")
    context.add_init_script(RECORDER)
    page = context.new_page()
    try:
        log_in(page, desk)
        live(page)
        assert page.evaluate("window.__asked") == 0
        # Not allowed yet: the button asks, once clicked (and only then).
        assert page.evaluate("Notification.permission") == "default"
        button = page.get_by_role("button", name="Activer les notifications du navigateur")
        expect(page.locator("#notify-state")).to_have_text("")
        button.click()
        until(page, "window.__asked === 1")
        # The e-mail preference, from the page's form.
        page.get_by_label("E-mail pour les nouveaux dossiers").select_option("P1")
        page.get_by_role("button", name="Enregistrer").click()
        saved = page.get_by_role("status").filter(has_text="Préférence enregistrée.")
        expect(saved).to_be_visible()
        expect(page).to_have_url(re.compile(r"/desk/\?notify=saved"))
        expect(page.get_by_label("E-mail pour les nouveaux dossiers")).to_have_value("P1")
        with factory.begin() as session:
            assert mail.preference(session, who) == "P1"
    finally:
        context.close()
