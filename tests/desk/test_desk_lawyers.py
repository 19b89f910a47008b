"""Several lawyers sharing the cases (issue #14, item 2) and the person's right of access
(item 6), through the JSON API on a real Sanic server on 127.0.0.1, on SQLite and PostgreSQL:
take, release, reassign, take over, reopen, labels, search, export; the audit log (who, when,
ids only); erasure takes the labels too."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import test_desk_api
from desk_testlib import handoff_tracker
from rasa.core.agent import Agent
from rasa.shared.core.events import UserUttered
from sqlalchemy import select, text, update
from test_desk_api import Desk, open_case

from desk import auth, cases, erasure, teamwork
from desk.models import desk_audit, desk_case, desk_label, metadata
from permanence.tracker_store import ConfidentialSQLTrackerStore

desk = test_desk_api.desk  # the fixture: the desk's server, two lawyers with bearer tokens


def trail(factory, case_id: int) -> list[tuple]:
    with factory.begin() as session:
        rows = session.execute(
            select(desk_audit.c.lawyer_id, desk_audit.c.action, desk_audit.c.detail,
                   desk_audit.c.at)
            .where(desk_audit.c.case_id == case_id, desk_audit.c.action != "case.read")
            .order_by(desk_audit.c.id))
        return [tuple(row) for row in rows]


async def test_take_release_reassign_take_over_and_reply_are_audited(desk: Desk, domain) -> None:
    case_id = open_case(desk.factory, domain, "web:team")
    a, b = desk.lawyer, desk.other
    path = f"/desk/api/cases/{case_id}"
    assert (await desk.call("POST", f"{path}/take", desk.token))[0] == 200
    # The colleague can neither release nor give away a case she does not hold.
    for action, body in (("release", None), ("reassign", {"to": b})):
        status, answer, _ = await desk.call("POST", f"{path}/{action}", desk.other_token, body)
        assert (status, answer["error"]) == (409, "held_by_colleague"), action
    status, answer, _ = await desk.call("POST", f"{path}/release", desk.token)
    assert (status, answer["case"]["state"], answer["case"]["taken_by"]) == (200, "waiting", None)
    assert (await desk.call("POST", f"{path}/release", desk.token))[0] == 409  # not taken

    for bad in ({"to": 999_999}, {"to": "x"}, {}, {"to": True}):
        status, answer, _ = await desk.call("POST", f"{path}/reassign", desk.token, bad)
        assert (status, answer["error"]) == (400, "invalid_input"), bad
    status, answer, _ = await desk.call("POST", f"{path}/reassign", desk.token, {"to": b})
    assert (status, answer["case"]["state"], answer["case"]["taken_by"]) == (200, "taken", b)
    # Now hers: she replies; A is refused until A takes it over.
    status, answer, _ = await desk.call("POST", f"{path}/reply", desk.other_token,
                                        {"text": "Bonjour, ici votre avocate."})
    assert status == 202
    status, answer, _ = await desk.call("POST", f"{path}/reply", desk.token, {"text": "Moi"})
    assert (status, answer["error"]) == (409, "held_by_colleague")
    status, answer, _ = await desk.call("POST", f"{path}/take", desk.token, {"takeover": True})
    assert (status, answer["case"]["taken_by"]) == (200, a)
    assert (await desk.call("POST", f"{path}/reply", desk.token, {"text": "Je reprends."}))[0] \
        == 202
    # A deactivated colleague cannot be given a case.
    with desk.factory.begin() as session:
        auth.deactivate(session, b)
    assert (await desk.call("POST", f"{path}/reassign", desk.token, {"to": b}))[0] == 400

    found = trail(desk.factory, case_id)
    assert [row[:3] for row in found] == [
        (None, "case.opened", "kind=lawyer tier=P2"),
        (a, "case.take", None),
        (a, "case.release", None),
        (a, "case.reassign", f"to={b} from="),
        (b, "case.reply", found[4][2]),
        (a, "case.takeover", f"from={b}"),
        (a, "case.reply", found[6][2]),
    ]
    assert all(isinstance(row[3], datetime) for row in found)
    status, body, _ = await desk.call("GET", f"{path}", desk.token)
    assert [(m["lawyer_id"], m["text"]) for m in body["messages"]] == [
        (b, "Bonjour, ici votre avocate."), (a, "Je reprends.")]


async def test_the_active_lawyers_are_listed_by_name(desk: Desk) -> None:
    with desk.factory.begin() as session:
        auth.set_display_name(session, desk.other, "Maître Berthe")
    status, body, _ = await desk.call("GET", "/desk/api/lawyers", desk.token)
    assert (status, body["lawyers"]) == (200, [
        {"id": desk.lawyer, "name": "a@cabinet.example"},
        {"id": desk.other, "name": "Maître Berthe"}])


async def test_a_closed_case_is_reopened_within_the_retention_period(
        desk: Desk, domain, monkeypatch) -> None:
    monkeypatch.setenv("PERMANENCE_RETENTION_DAYS", "30")
    recent, old = (open_case(desk.factory, domain, sender) for sender in ("web:r", "web:o"))
    now = datetime.now(timezone.utc)
    with desk.factory.begin() as session:
        for case_id in (recent, old):
            cases.take(session, case_id, desk.other)
            cases.close(session, case_id, desk.other, "answered")
        session.execute(update(desk_case).where(desk_case.c.id == old)
                        .values(closed_at=now - timedelta(days=31)))
    assert (await desk.call("POST", f"/desk/api/cases/{old}/reopen", desk.token))[0] == 409
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{recent}/reopen", desk.token)
    assert (status, body["case"]["state"], body["case"]["taken_by"], body["case"]["outcome"]) \
        == (200, "taken", desk.lawyer, None)
    assert (await desk.call("POST", f"/desk/api/cases/{recent}/reopen", desk.token))[0] == 409
    # A conversation with another open case: the closed one stays closed.
    with desk.factory.begin() as session:
        cases.handback(session, recent, desk.lawyer)
    newer = open_case(desk.factory, domain, "web:r")
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{recent}/reopen", desk.token)
    assert (status, body["error"]) == (409, "invalid_transition")
    assert newer != recent
    assert [row[1:3] for row in trail(desk.factory, recent)][-3:] == [
        ("case.close", "outcome=answered"), ("case.reopen", "from=answered"),
        ("case.handback", None)]
    # Closed cases are listed by the search.
    status, body, _ = await desk.call("POST", "/desk/api/search", desk.token,
                                      {"state": "closed"})
    assert [c["id"] for c in body["cases"]] == [old, recent]  # newest first


async def test_reopening_pauses_the_conversation_again(desk: Desk, domain, desk_url) -> None:
    """Closing resumed the assistant; reopening gives the conversation back to the lawyer:
    the person's next message goes on the case (the real tracker store and its hook)."""
    store = ConfidentialSQLTrackerStore(domain=domain, url=desk_url)
    desk.app.ctx.agent = Agent(domain=domain, tracker_store=store)
    await store.save(handoff_tracker(domain, "web:again"))  # the handover opens the case
    with desk.factory.begin() as session:
        case_id = cases.open_case_id(session, "web:again")
    path = f"/desk/api/cases/{case_id}"
    assert (await desk.call("POST", f"{path}/take", desk.token))[0] == 200
    status, body, _ = await desk.call("POST", f"{path}/close", desk.token,
                                      {"outcome": "answered"})
    assert (status, body["conversation"]) == (200, "resumed")
    assert not (await store.retrieve("web:again")).is_paused()

    status, body, _ = await desk.call("POST", f"{path}/reopen", desk.other_token)
    assert (status, body["conversation"], body["case"]["taken_by"]) == (200, "paused",
                                                                        desk.other)
    tracker = await store.retrieve("web:again")
    assert tracker.is_paused()
    tracker.update(UserUttered("une dernière question pour l'avocate"))
    await store.save(tracker)
    status, case, _ = await desk.call("GET", path, desk.other_token)
    assert [(m["author"], m["text"]) for m in case["messages"]] == [
        ("person", "une dernière question pour l'avocate")]
    store.engine.dispose()


async def test_labels_are_added_filtered_and_removed_and_audited_by_id(
        desk: Desk, domain) -> None:
    first, second = (open_case(desk.factory, domain, s) for s in ("web:l1", "web:l2"))
    path = f"/desk/api/cases/{first}/labels"
    status, body, _ = await desk.call("POST", path, desk.token, {"label": "  famille   Martin "})
    assert status == 201 and body["labels"] == [{"id": body["label_id"], "name": "famille Martin"}]
    label_id = body["label_id"]
    status, body, _ = await desk.call("POST", path, desk.token, {"label": "FAMILLE martin"})
    assert (status, body["label_id"], len(body["labels"])) == (201, label_id, 1)
    await desk.call("POST", f"/desk/api/cases/{second}/labels", desk.other_token,
                    {"label": "à rappeler"})
    for bad in ({"label": ""}, {"label": "x" * 61}, {"label": 3}, {}):
        assert (await desk.call("POST", path, desk.token, bad))[0] == 400, bad

    status, body, _ = await desk.call("POST", "/desk/api/search", desk.token,
                                      {"label": "famille martin"})
    assert [(c["id"], c["labels"]) for c in body["cases"]] == [
        (first, [{"id": label_id, "name": "famille Martin"}])]
    status, case, _ = await desk.call("GET", f"/desk/api/cases/{first}", desk.token)
    assert case["labels"] == [{"id": label_id, "name": "famille Martin"}]
    status, body, _ = await desk.call("GET", "/desk/api/cases", desk.token)
    assert {c["id"]: [label["name"] for label in c["labels"]] for c in body["queue"]} == {
        first: ["famille Martin"], second: ["à rappeler"]}

    assert (await desk.call("DELETE", f"{path}/{label_id + 1000}", desk.token))[0] == 404
    status, body, _ = await desk.call("DELETE", f"{path}/{label_id}", desk.token)
    assert (status, body["labels"]) == (200, [])
    assert [row[1:3] for row in trail(desk.factory, first)][1:] == [
        ("case.label_add", f"label={label_id}"), ("case.label_remove", f"label={label_id}")]
    with desk.factory.begin() as session:
        details = session.execute(select(desk_audit.c.detail)).scalars().all()
    assert not any("famille" in (d or "").lower() or "rappeler" in (d or "") for d in details)


async def test_search_by_handle_fact_card_domain_tier_date_and_status(desk: Desk, domain) -> None:
    x_case = open_case(desk.factory, domain, "x:77", channel="x",
                       metadata={"screen_name": "JeanneD"}, urgence="P0", domaine="etrangers",
                       partie_adverse="Préfecture du Nord", type_decision="OQTF",
                       question_initiale="j'ai reçu une OQTF", recit="Reçue hier.")
    web_case = open_case(desk.factory, domain, "web:88")  # urbanisme, mairie de Lens, P2
    with desk.factory.begin() as session:
        cases.take(session, web_case, desk.lawyer)
        cases.close(session, web_case, desk.lawyer, "nothing_to_answer")
        session.execute(update(desk_case).where(desk_case.c.id == web_case).values(
            opened_at=datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc)))  # 3 Nov in Paris

    async def ids(**criteria: str) -> list[int]:
        status, body, _ = await desk.call("POST", "/desk/api/search", desk.token, criteria)
        assert status == 200, (criteria, body)
        return [c["id"] for c in body["cases"]]

    assert await ids() == [x_case, web_case]
    assert await ids(handle="@jeanned") == [x_case]
    assert await ids(q="prefecture nord") == [x_case]  # accents and case ignored
    assert await ids(q="permis construire") == [web_case]
    assert await ids(q="permis nord") == []  # every word
    assert await ids(domain="urbanisme") == [web_case]
    assert await ids(tier="P0") == [x_case]
    assert await ids(tier="none") == []
    assert await ids(state="closed") == [web_case]
    assert await ids(state="open", domain="etrangers") == [x_case]
    assert await ids(**{"from": "2026-11-03", "to": "2026-11-03"}) == [web_case]
    assert await ids(to="2026-11-02") == []
    for bad in ({"tier": "P9"}, {"state": "lost"}, {"from": "2026-13-01"},
                {"from": "2026-11-05", "to": "2026-11-01"}, {"domain": "a b"},
                {"q": "x" * 201}, {"q": 3}):
        status, body, _ = await desk.call("POST", "/desk/api/search", desk.token, bad)
        assert (status, body["error"]) == (400, "invalid_input"), bad
    with desk.factory.begin() as session:
        details = session.execute(select(desk_audit.c.detail).where(
            desk_audit.c.action == "cases.search")).scalars().all()
    assert "q" in details[2].split() and "handle" in details[1].split()
    assert not any(word in " ".join(details).lower()
                   for word in ("jeanne", "prefecture", "nord", "permis"))


async def test_the_export_holds_the_persons_data_and_nothing_of_another(
        desk: Desk, domain, desk_url) -> None:
    store = ConfidentialSQLTrackerStore(domain=domain, url=desk_url)  # consent, the dialogue
    for sender, party in (("web:anna", "mairie de Lens"), ("web:bruno", "Préfecture du Gard")):
        await store.save(handoff_tracker(domain, sender, partie_adverse=party,
                                         recit=f"récit de {sender}"))
    with desk.factory.begin() as session:
        anna = cases.open_case_id(session, "web:anna")
        bruno = cases.open_case_id(session, "web:bruno")
        auth.set_display_name(session, desk.lawyer, "Maître Aubert")
        cases.record_person_message(session, "web:anna", "Voici la date de la décision : 3 mai")
        cases.record_person_message(session, "web:bruno", "message de Bruno")
        cases.take(session, anna, desk.lawyer)
        cases.reply(session, anna, desk.lawyer, "Merci, je regarde votre dossier.")
        cases.note(session, anna, desk.lawyer, "note interne secrète")
        teamwork.add_label(session, anna, desk.lawyer, "permis Lens")
        teamwork.add_label(session, bruno, desk.lawyer, "Gard")

    status, report, headers = await desk.call("GET", f"/desk/api/cases/{anna}/export",
                                              desk.token)
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    dumped = json.dumps(report, ensure_ascii=False)
    assert report["conversation_id"] == "web:anna"
    assert [c["id"] for c in report["cases"]] == [anna]
    case = report["cases"][0]
    assert case["fact_card"]["partie_adverse"] == "mairie de Lens"
    assert case["fact_card"]["recit"] == "récit de web:anna"
    assert [(m["author"], m["text"]) for m in case["messages"]] == [
        ("person", "Voici la date de la décision : 3 mai"),
        ("lawyer", "Merci, je regarde votre dossier.")]
    assert case["messages"][1]["lawyer"] == "Maître Aubert"
    assert case["labels"] == ["permis Lens"]
    assert ("case.take", "Maître Aubert") in {(h["action"], h["lawyer"]) for h in case["history"]}
    assert [c["value"] for c in report["conversation"]["consent"]] == ["given"]
    assert "Bonjour, la mairie a refusé mon permis de construire" in [
        m["text"] for m in report["conversation"]["messages"] if m["author"] == "person"]
    for other in ("bruno", "Bruno", "Gard", "note interne secrète", str(bruno) + ","):
        assert other not in dumped, other

    async with desk.http.get(f"{desk.base}/desk/api/cases/{anna}/export?format=text",
                             headers={"Authorization": f"Bearer {desk.token}"}) as reply:
        assert reply.status == 200 and reply.content_type == "text/plain"
        readable = await reply.text()
    for expected in ("droit d'accès (RGPD, article 15)", "consentement donné",
                     "Partie adverse : mairie de Lens", "Vous : Voici la date de la décision",
                     "Maître Aubert (avocat) : Merci, je regarde votre dossier.",
                     "Étiquettes : permis Lens", "pris en charge · Maître Aubert",
                     "notes internes des avocats"):
        assert expected in readable, expected
    assert "Bruno" not in readable and "Gard" not in readable and "secrète" not in readable
    assert [row[1:3] for row in trail(desk.factory, anna)][-2:] == [
        ("case.export", "format=json"), ("case.export", "format=text")]
    status, _, _ = await desk.call("GET", "/desk/api/cases/999999/export", desk.token)
    assert status == 404
    store.engine.dispose()


def test_erasure_removes_the_labels_and_leaves_no_label_text_in_any_desk_table(
        factory, domain) -> None:
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
        gone = cases.open_case_from_tracker(session, handoff_tracker(domain, "web:gone"))[0]
        kept = cases.open_case_from_tracker(session, handoff_tracker(domain, "web:kept"))[0]
        teamwork.add_label(session, gone, lawyer, "Famille Zorglub")
        teamwork.add_label(session, kept, lawyer, "à garder")
        teamwork.remove_label(session, gone, lawyer,
                              teamwork.add_label(session, gone, lawyer, "Zorglub bis"))
        teamwork.reassign(session, gone, lawyer, lawyer)
        erasure.erase_conversation(session, "web:gone")
    with factory.begin() as session:
        assert session.execute(select(desk_label.c.name)).scalars().all() == ["à garder"]
        for table in metadata.sorted_tables:
            for row in session.execute(text(f"SELECT * FROM {table.name}")):
                assert "zorglub" not in " ".join(str(v) for v in row).lower(), table.name
        actions = session.execute(select(desk_audit.c.action).where(
            desk_audit.c.case_id == gone)).scalars().all()
    assert "case.label_add" in actions and actions[-1] == "case.erased"
