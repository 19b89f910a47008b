"""The summary the person confirms (action_summarize), the correction form, action_reset_field."""

from __future__ import annotations

import pytest

from actions.summary import (
    ActionResetField,
    ActionSummarize,
    ValidateCorrectionForm,
    display_value,
    render_summary,
)

CASE = {
    "domaine": "etrangers",
    "partie_adverse": "préfecture du Nord",
    "role": "agent_public",
    "type_decision": "refus de titre de séjour",
    "date_decision": "2026-05-04",
    "mention_voies_delais": "nsp",
    "recours_gracieux": "oui",
    "recours_gracieux_date": "2026-05-10",
    "mesure_privative": "assignation",
    "code_postal": "59000",
    "recit": "La préfecture a refusé de renouveler mon titre de séjour.",
}
# What the person reads, line by line, in the order of the questions.
CASE_LINES = [
    "• Domaine : Droit des étrangers",
    "• Administration / partie : préfecture du Nord",
    "• Vous êtes : Agent public",
    "• Décision : refus de titre de séjour",
    "• Date de la décision : 04/05/2026",
    "• Voies et délais indiqués : Ne sait pas",
    "• Recours déjà fait : Oui",
    "• Date du recours : 10/05/2026",
    "• Mesure : Assignation à résidence",
    "• Code postal : 59000",
    "• Récit : La préfecture a refusé de renouveler mon titre de séjour.",
]
MAX_RECIT = 280  # characters of the account shown in the summary (phone screen)

# The correction buttons of domain.yml and the field each one designates.
FIELD_OF_BUTTON = {
    "Domaine": "domaine",
    "Administration": "partie_adverse",
    "Vous êtes": "role",
    "Décision": "type_decision",
    "Date": "date_decision",
    "Voies et délais": "mention_voies_delais",
    "Recours": "recours_gracieux",
    "Mesure": "mesure_privative",
    "Code postal": "code_postal",
    "Récit": "recit",
}


def test_summary_lists_every_answer_in_question_order(domain) -> None:
    assert render_summary(CASE) == "\n".join(CASE_LINES)
    # The summary follows the order in which the triage form asks.
    order = domain["forms"]["triage_form"]["required_slots"]
    assert list(CASE) == order


@pytest.mark.parametrize("empty", [None, ""])
def test_summary_skips_unanswered_fields(empty) -> None:
    slots = {**CASE, "recours_gracieux": "non", "recours_gracieux_date": empty,
             "mesure_privative": empty, "partie_adverse": empty}
    lines = render_summary(slots).split("\n")
    assert "• Recours déjà fait : Non" in lines
    assert not any(line.startswith(("• Date du recours", "• Mesure", "• Administration"))
                   for line in lines)
    assert len(lines) == len(CASE_LINES) - 3


def test_summary_never_shows_the_lawyer_only_fields() -> None:
    slots = {**CASE, "urgence": "P0", "echeance_estimee": "2026-05-21",
             "echeance_regle": "CESEDA L. 921-2", "urgence_motifs": ["mesure"],
             "question_initiale": "question", "consent": "given", "lawyer_name": "Maître X"}
    summary = render_summary(slots)
    assert summary == "\n".join(CASE_LINES)
    for hidden in ("P0", "2026-05-21", "21/05/2026", "921-2", "Maître X"):
        assert hidden not in summary


def test_empty_summary() -> None:
    assert render_summary({}) == ""


@pytest.mark.parametrize(
    ("slot", "value", "shown"),
    [
        ("date_decision", "2026-01-09", "09/01/2026"),
        ("date_decision", "2025-12-31", "31/12/2025"),
        ("recours_gracieux_date", "2026-02-28", "28/02/2026"),
        ("date_decision", "nsp", "ne sait pas"),
        ("recours_gracieux_date", "nsp", "ne sait pas"),
        ("mention_voies_delais", "oui", "Oui"),
        ("mention_voies_delais", "non", "Non"),
        ("recours_gracieux", "nsp", "Ne sait pas"),
        ("mesure_privative", "retention", "Rétention (CRA)"),
        ("mesure_privative", "oqtf", "OQTF sans autre mesure"),
        ("mesure_privative", "aucune", "Aucune"),
        ("mesure_privative", "nsp", "Ne sait pas"),
        ("partie_adverse", "non précisé", "non précisé"),
        ("code_postal", "2A004", "2A004"),
        ("domaine", "hors_champ", "Hors droit public"),
    ],
)
def test_display_values(slot, value, shown) -> None:
    assert display_value(slot, value) == shown


def test_role_reads_as_its_button(domain) -> None:
    # The summary shows the role as the person chose it on the buttons.
    from actions.parsing import parse_role

    for button in domain["responses"]["utter_ask_role"][0]["buttons"]:
        assert display_value("role", parse_role(button["payload"])) == button["title"]


def test_every_domain_has_a_french_label(domain) -> None:
    payloads = [b["payload"] for b in domain["responses"]["utter_ask_domaine"][0]["buttons"]]
    for payload in payloads:
        key = payload.removeprefix("/question_")
        label = display_value("domaine", key)
        assert label and label != key and "_" not in label


@pytest.mark.parametrize(
    ("length", "truncated"),
    [(MAX_RECIT - 1, False), (MAX_RECIT, False), (MAX_RECIT + 1, True), (10_000, True)],
)
def test_long_account_is_cut_in_the_summary(length, truncated) -> None:
    recit = ("Le préfet a refusé mon titre de séjour. " * 300)[:length]
    line = render_summary({"recit": recit})
    assert line.startswith("• Récit : ")
    shown = line.removeprefix("• Récit : ")
    if truncated:
        assert len(shown) == MAX_RECIT and shown.endswith("…")
        assert recit.startswith(shown[:-1])
    else:
        assert shown == recit


async def test_summarize_sends_the_summary_to_confirm(
    dispatcher, make_tracker, domain, sent, render, firm_data
) -> None:
    tracker = make_tracker(slots={**CASE, "consent": "given", "route": "triage"})

    events = await ActionSummarize().run(dispatcher, tracker, domain)

    assert events == []
    assert sent() == ["utter_summary"]
    (message,) = dispatcher.messages
    assert message["summary"] == "\n".join(CASE_LINES)
    assert message["lawyer_name"] == firm_data["lawyer_name"]
    text = render(message)
    assert text.startswith(f"Voici ce que je transmets à {firm_data['lawyer_name']} :\n")
    assert "\n".join(CASE_LINES) in text
    buttons = domain["responses"]["utter_summary"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]


async def test_summarize_with_an_unusual_case(dispatcher, make_tracker, domain) -> None:
    slots = {"domaine": "urbanisme", "partie_adverse": "non précisé", "role": "elu",
             "date_decision": "nsp", "recit": "x" * 1000, "mention_voies_delais": "non"}
    await ActionSummarize().run(dispatcher, make_tracker(slots=slots), domain)
    summary = dispatcher.messages[0]["summary"]
    assert summary.split("\n") == [
        "• Domaine : Urbanisme",
        "• Administration / partie : non précisé",
        "• Vous êtes : Élu(e)",
        "• Date de la décision : ne sait pas",
        "• Voies et délais indiqués : Non",
        "• Récit : " + "x" * (MAX_RECIT - 1) + "…",
    ]


# --- correction form ----------------------------------------------------------------------------


def correction_buttons(domain) -> list[dict]:
    return domain["responses"]["utter_ask_field_to_correct"][0]["buttons"]


def test_correction_buttons_cover_every_summary_field(domain) -> None:
    titles = [b["title"] for b in correction_buttons(domain)]
    assert titles == list(FIELD_OF_BUTTON)
    fields = set(FIELD_OF_BUTTON.values())
    order = domain["forms"]["triage_form"]["required_slots"]
    # The recours date is corrected with the recours (action_reset_field clears both).
    assert fields == set(order) - {"recours_gracieux_date"}


def _correction_cases() -> list:
    cases = [(title, field) for title, field in FIELD_OF_BUTTON.items()]
    cases += [(str(n), field) for n, field in enumerate(FIELD_OF_BUTTON.values(), start=1)]
    cases += [
        ("la date est fausse", "date_decision"),
        ("c'est la mairie pas la préfecture", "partie_adverse"),
        ("je me suis trompé de code postal", "code_postal"),
        ("le récit", "recit"),
        ("le domaine", "domaine"),
        ("je ne suis pas agent, je suis particulier : mon statut", "role"),
        ("  CODE POSTAL  ", "code_postal"),
        ("recours", "recours_gracieux"),
    ]
    return cases


@pytest.mark.parametrize(("answer", "field"), _correction_cases())
async def test_correction_field_chosen(
    make_form_tracker, dispatcher, domain, sent, answer, field
) -> None:
    tracker = make_form_tracker("correction_form", "field_to_correct", answer,
                                slots={**CASE})
    events = await ValidateCorrectionForm().run(dispatcher, tracker, domain)

    assert events == [{"event": "slot", "timestamp": None, "name": "field_to_correct",
                       "value": field}]
    assert sent() == []


def test_correction_button_payloads_are_understood(domain) -> None:
    from actions.parsing import parse_field

    for button in correction_buttons(domain):
        assert parse_field(button["payload"]) == FIELD_OF_BUTTON[button["title"]]


@pytest.mark.parametrize("answer", ["bof", "0", "11", "😡", "", "\u200b", "\u200fلا أعرف"])
async def test_correction_field_not_understood(
    make_form_tracker, dispatcher, domain, sent, answer
) -> None:
    tracker = make_form_tracker("correction_form", "field_to_correct", answer)
    events = await ValidateCorrectionForm().run(dispatcher, tracker, domain)

    assert events == [{"event": "slot", "timestamp": None, "name": "field_to_correct",
                       "value": None}]
    assert sent() == ["utter_invalid_field_to_correct"]


@pytest.mark.parametrize(
    ("label", "fields"),
    [
        ("Date de la décision", {"date_decision"}),
        ("Date du recours", {"recours_gracieux", "recours_gracieux_date"}),
    ],
)
async def test_summary_labels_designate_their_own_field(
    make_form_tracker, dispatcher, domain, label, fields
) -> None:
    tracker = make_form_tracker("correction_form", "field_to_correct", label)
    events = await ValidateCorrectionForm().run(dispatcher, tracker, domain)
    assert events[0]["value"] in fields


# --- reset field -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", list(FIELD_OF_BUTTON.values()))
async def test_reset_field_clears_the_chosen_field(
    dispatcher, make_tracker, domain, sent, field
) -> None:
    tracker = make_tracker(slots={**CASE, "field_to_correct": field})

    events = await ActionResetField().run(dispatcher, tracker, domain)

    cleared = [(e["name"], e["value"]) for e in events]
    expected = [("field_to_correct", None), (field, None)]
    if field == "recours_gracieux":
        expected.append(("recours_gracieux_date", None))
    assert cleared == expected
    assert sent() == []


async def test_reset_field_without_a_field(dispatcher, make_tracker, domain) -> None:
    events = await ActionResetField().run(dispatcher, make_tracker(slots=CASE), domain)
    assert [(e["name"], e["value"]) for e in events] == [("field_to_correct", None)]
