"""Another language (issue #12, item 5): detected by a small pure detector, answered in that
language with a note (the service is in French, how to reach the lawyer, what the French consent
question asks); French, however informal, is never taken for another language."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.consent import ActionRememberQuestion
from actions.language import LANGUAGES, NOTES, detect_language

ROOT = Path(__file__).resolve().parents[2]

FOREIGN = [
    ("Hello, I received a letter from the prefecture refusing my residence permit. Can you help?",
     "en"),
    ("Hi, do you speak English? I need a lawyer", "en"),
    ("my landlord wants to evict me and I don't know what to do", "en"),
    ("Sorry I don't speak French, is there someone who can help me in English?", "en"),
    ("Hola, necesito ayuda con mi permiso de residencia, no hablo francés", "es"),
    ("Buenos días, recibí una carta de la prefectura y no entiendo nada", "es"),
    ("Olá, preciso de ajuda, não falo francês. Recebi uma carta da prefeitura", "pt"),
    ("Buongiorno, ho bisogno di un avvocato, parlo solo italiano", "it"),
    ("Ciao, ho ricevuto una lettera dalla prefettura e non capisco", "it"),
    ("Hallo, ich brauche Hilfe, ich spreche kein Französisch", "de"),
    ("Guten Tag, ich habe einen Brief von der Präfektur bekommen und verstehe ihn nicht", "de"),
    ("السلام عليكم، عندي مشكلة مع الإقامة وما نعرفش الفرنسية", "ar"),
    ("مرحبا أريد التحدث مع محامي", "ar"),
    ("salam 3alaykoum, 3andi mochkil m3a lwra9 dyali f lprefecture", "ar"),
    ("slm khoya, bghit nsowlek 3la l'OQTF li jatni", "ar"),
    ("salam, ana ma nfhamch lfransawiya, 3afak chkoun ymken y3awenni", "ar"),
]

FRENCH = [
    "hello, j'ai un problème avec la préfecture",
    "hello",
    "ok",
    "yes",
    "sorry",
    "Bonjour, j'ai reçu une OQTF hier",
    "wesh j'ai reçu une OQTF, je fais quoi wallah",
    "salam, la préfecture refuse mon titre de séjour",
    "salam alikoum, ma demande de naturalisation est bloquée depuis 2 ans inchallah ça avance",
    "j'ai un problème avec mon job, mon boss me paie pas",
    "T3 au 2e étage, 3ème relance, rdv à 9h30, délai de 48h, covid19, A7",
    "le 3 mars à 14h, puis le 7, 9 ans de séjour",
    "je suis en CDD dans un fast food",
    "il m'a dit « I don't care » et il est parti",
    "mon titre de séjour expire le 12 et la préfecture ne répond pas, help",
    "c'est la mairie de Rio de Janeiro... non je plaisante, de Roubaix",
    "",
    None,
    "🙏🙏",
]


@pytest.mark.parametrize(("text", "language"), FOREIGN)
def test_another_language_is_detected(text, language) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", FRENCH)
def test_french_is_french(text) -> None:
    assert detect_language(text) is None


def _examples(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            texts += [line[2:] for line in (block.get("examples") or "").splitlines()
                      if line.startswith("- ")]
    return texts


@pytest.mark.parametrize("folder", ["data/nlu", "tests/nlu_test", "tests/nlu_dev"])
def test_no_french_example_of_the_project_is_taken_for_another_language(folder) -> None:
    texts = _examples(ROOT / folder)
    assert len(texts) > 100
    foreign = [(text, detect_language(text)) for text in texts if detect_language(text)]
    assert foreign == []


def test_every_language_has_its_note(domain) -> None:
    assert set(LANGUAGES) == {"en", "es", "pt", "it", "de", "ar"}
    for code in LANGUAGES:
        assert NOTES[code] == f"utter_language_{code}"
        [note] = domain["responses"][NOTES[code]]
        assert "{firm_contact}" in note["text"] and "{lawyer_name}" in note["text"]
        assert "J'accepte" in note["text"] and "Je refuse" in note["text"]
        assert [b["payload"] for b in note["buttons"]] == ["/affirm", "/deny"]


async def test_a_first_message_in_english_gets_the_note_after_the_opening(
    dispatcher, make_tracker, domain, sent, render, slot_events, session_start_events, firm_data
) -> None:
    text = "Hello, I received a letter from the prefecture, I need a lawyer please"
    tracker = make_tracker(text=text, intent="question_etrangers",
                           events=[*session_start_events, {"event": "user", "text": text}])

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert sent() == ["utter_language_en"]  # the opening went out at session start
    note = render(dispatcher.messages[0])
    assert note.startswith("This service is in French only.")
    assert firm_data["contact"] in note and firm_data["lawyer_name"] in note
    slots = slot_events(events)
    assert slots["consent"] == "pending"
    assert slots["question_initiale"] == text  # kept for the lawyer
    assert "domaine" not in slots  # the French NLU does not tell its domain


async def test_while_consent_is_pending_the_question_comes_again_then_the_note(
    dispatcher, make_tracker, domain, sent, session_start_events
) -> None:
    text = "Hola, no hablo francés, necesito un abogado"
    tracker = make_tracker(text=text, intent="nlu_fallback", slots={"consent": "pending"},
                           events=[*session_start_events, {"event": "user", "text": text}])

    await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert sent() == ["utter_ask_consent_again", "utter_language_es"]


async def test_french_gets_no_note(
    dispatcher, make_tracker, domain, sent, slot_events, session_start_events
) -> None:
    text = "hello, la préfecture refuse mon titre de séjour"
    tracker = make_tracker(text=text, intent="question_etrangers", slots={"consent": "pending"},
                           events=[*session_start_events, {"event": "user", "text": text}])

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert sent() == ["utter_ask_consent_again"]
    assert slot_events(events)["domaine"] == "etrangers"
