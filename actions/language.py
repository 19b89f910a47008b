"""Which language a message is written in, when it is clearly not French (issue #12, item 5).

A small stopword count, no model (no language-identification library is installed): the
assistant speaks French only, and a message clearly in English, Spanish, Portuguese, Italian or
German, or in Arabic (Arabic script, or Latin script with digits for letters: « salam, 3andi
mochkil m3a lwra9 »), gets a short note in that language (domain.yml ``utter_language_<code>``).
Anything doubtful is French: informal French, franglais (« j'ai un problème avec mon job »),
French with typos or youth slang (« wesh », « wallah »), a lone « hello ».

Each language's list leaves out the words French also uses or that French speakers type
(« a », « on », « me », « de », « la », « que », « si », « non », « con », « an », « job »...).
The French examples of data/nlu and tests/nlu_* never come out as another language
(tests/actions/test_language.py).
"""

from __future__ import annotations

import re
import unicodedata

# The note each language gets (domain.yml), named in full for scripts/validate_data.py.
NOTES = {
    "en": "utter_language_en",
    "es": "utter_language_es",
    "pt": "utter_language_pt",
    "it": "utter_language_it",
    "de": "utter_language_de",
    "ar": "utter_language_ar",
}
LANGUAGES = tuple(NOTES)

# Words that name a language or ask for one: they count double.
_STRONG = {
    "en": {"english", "speak", "french", "lawyer"},
    "es": {"español", "espanol", "hablo", "habla", "francés", "frances", "abogado", "abogada"},
    "pt": {"português", "portugues", "falo", "fala", "francês", "advogado", "advogada"},
    "it": {"italiano", "parlo", "parla", "francese", "avvocato", "avvocata"},
    "de": {"deutsch", "spreche", "sprechen", "französisch", "anwalt", "anwältin"},
    "ar": {"3andi", "andi", "bghit", "mochkil", "mouchkil", "mouchkila", "dyal", "dial", "kifach",
           "kifash", "chno", "chnou", "chnowa", "wach", "3arbiya", "darija", "l3arbiya"},
}

_WORDS = {
    "en": """the is are was were i you my your have has had with from this that what how why
        where when can could would should will do does did don doesn didn not and of to for it
        be been am speak english hi please thanks thank help need want got get just about there
        they we our their he she her his him who which any some yes yeah sorry
        received letter house landlord work working problem""",
    "es": """el los del por para con tengo tiene tienen estoy está están pero muy usted
        ustedes hola gracias necesito ayuda puedo cómo como qué porque cuando donde dónde soy
        hablo español hay este esta eso ese también una uno unos unas al lo
        quiero abogado ella ellos hace desde recibí carta trabajo casa problema favor buenos
        buenas días dias tardes noches nada entiendo mi mis sus ayudarme""",
    "pt": """um uma não você para por meu minha tenho estou está obrigado
        obrigada olá ola preciso ajuda posso como muito da das na nas ao falo português
        advogado quero isso esse essa também mas recebi carta trabalho casa problema favor bom
        boa dia tarde noite entendo nada""",
    "it": """lo gli uno una di del della dei che sono ho hai è per con ti ciao grazie buongiorno
        avvocato voglio posso come perché questo questa anche mio mia aiuto bisogno parlo
        italiano sto sei siamo nel nella dal alla al ricevuto lettera lavoro casa buonasera
        capisco""",
    "de": """ich bin ist und der die das nicht ein eine einen mit für auf zu von haben habe hat
        sie wir mein meine hallo danke bitte kann können anwalt sprechen deutsch was wie wo
        warum aber oder auch sehr mir mich dem den im sind wurde brauche hilfe meinem meiner
        arbeit haus guten tag morgen verstehe""",
    # Arabic written in Latin script (darija and other dialects); not the words French speakers
    # use in French (« wesh », « wallah », « inchallah », « hamdoulah », « bled », « khey »...).
    "ar": """salam slm salamou alaykoum aleykoum ana nta nti howa hiya 7na hna ghir daba dba
        bzaf bezaf chwiya mzyan mezyan walakin wlakin kayn kayen makaynch machi mashi rah rahi
        raho ghadi lyoum lbare7 chkoun 3lach alach 3la m3a ta3 dyali diali khoya khouya khti
        choukran shukran baraka lah 3afak afak kolchi walou walo khdma khedma lwra9 lwra9i
        karta sbitar ch7al bach baghi bghina 3ndi 3endi""",
}
_FOREIGN = {code: set(words.split()) for code, words in _WORDS.items()}

_FRENCH = set("""
    de la le les un une des du et je j tu il elle nous vous on mon ma mes ton ta tes est suis
    ai a as au aux pour par sur avec dans pas ne n que qui quoi comment c ce ça ca cette cet mais
    ou où en y d l qu s m t se sa son ses leur leurs été être avoir fait faire très plus moi me
    te bonjour merci oui non si jai jsuis chui g sui svp stp mairie préfecture prefecture est
    quand depuis sans sous chez alors donc car aussi bien tout tous toute rien peux peut veux
    veut dois doit mais mon ma nos vos votre notre
""".split())

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # words, digits kept (« 3andi », « m3a »)
# Arabic in Latin script writes some letters as digits (3 ع, 7 ح, 9 ق, 2 ء): a digit between
# letters, or one that starts a word followed by a letter, unlike French ordinals and units
# (« 2e », « 3ème », « 9h30 », « 3ans », « 48h ») and names such as « T3 », « A7 », « covid19 ».
_ARABIZI = re.compile(r"[a-z]+[2379][a-z]+|[379][a-z]{2,}|[a-z]{3,}[79]")
_FRENCH_UNIT = re.compile(r"\d+(h|j|e|er|ere|eme|em|nd|nde|ans?|mois|min|mn|x|m|km|kg|k|sem)\d*")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
MIN_SCORE = 3


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def _arabizi(token: str) -> bool:
    """Whether ``token`` is a word of Arabic in Latin script written with digits (« m3a »)."""
    return bool(_ARABIZI.fullmatch(token)) and not _FRENCH_UNIT.fullmatch(token)


def detect_language(text: str | None) -> str | None:
    """The language code of ``text`` if it is clearly one of :data:`LANGUAGES`, else None
    (French, too short, or doubtful)."""
    if not text:
        return None
    letters = [c for c in text if c.isalpha()]
    arabic = len(_ARABIC.findall(text))
    if arabic >= 2 and arabic * 2 >= len(letters):
        return "ar"
    tokens = _tokens(text)
    if len(tokens) < 2:
        return None
    french = sum(token in _FRENCH for token in tokens)
    scores = {
        code: sum((2 if token in _STRONG[code] else 1) for token in tokens
                  if token in words or token in _STRONG[code])
        for code, words in _FOREIGN.items()
    }
    scores["ar"] += 2 * sum(_arabizi(token) for token in tokens if token not in _FOREIGN["ar"])
    code, score = max(scores.items(), key=lambda item: item[1])  # ties: the order above
    if score >= MIN_SCORE and 2 * score > 3 * french:
        return code
    return None
