"""The case record: the facts the assistant gathers, as the urgency rules, the handover and the
lawyer's desk read them (one list for all of them; no imports, so the desk can use it)."""

CASE_SLOTS = (
    "domaine",
    "question_initiale",
    "partie_adverse",
    "role",
    "type_decision",
    "date_decision",
    "mention_voies_delais",
    "recours_gracieux",
    "recours_gracieux_date",
    "mesure_privative",
    "code_postal",
    "recit",
    "faits",
    "date_decision_source",
    "heure_decision",
    "date_effet",
)
