"""What the assistant says at the steps the end-to-end tests wait for (the story-first intake,
actions/intake.py), written once so that a change of wording is one change here."""

# A first message that is routed to the triage, and the answers that complete it in one reply.
URBANISME = "bonjour, la mairie a refusé mon permis de construire pour une extension"
URBANISME_ANSWERS = "c'est mon permis, refus reçu le 2 octobre, pas de recours, 62300"
# After consent, the questions the intake still needs for URBANISME, bundled in one message.
QUESTIONS = "Il me manque quelques précisions"
# The summary the person confirms (« oui », « c'est bien ça ») or corrects in a sentence.
SUMMARY = "C'est bien ça ?"
