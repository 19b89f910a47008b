"""Compare extracted facts with a row of ``cases.CASES``: one entry per expected fact."""

from __future__ import annotations

from actions.facts import Facts


def _value(fact):
    return None if fact is None else fact.value


def score(facts: Facts, expected: dict) -> list[tuple[str, object, object, bool]]:
    """(key, expected, got, right) for every expected fact of the row."""
    rows = []
    for key, want in expected.items():
        if key == "dates":
            got_dates = [(d.role, d.day.isoformat() if d.day else None,
                          d.hour.strftime("%H:%M") if d.hour else None) for d in facts.dates]
            for item in want:
                rows.append(("date", item, got_dates, tuple(item) in got_dates))
        elif key == "adm":
            got = [(a.kind, a.place) for a in facts.administrations]
            if not want:
                rows.append(("adm", [], got, not got))
            for item in want:
                rows.append(("adm", item, got, tuple(item) in got))
        elif key == "priv":
            got = [p.value for p in facts.private_parties]
            for item in want:
                rows.append(("priv", item, got, item in got))
        elif key == "dec":
            got = list(facts.decision_kinds())
            for item in want:
                rows.append(("dec", item, got, item in got))
        else:
            attr = {"cp": "postcode", "contract": "contract_signed", "recours": "recours_gracieux",
                    "claim": "claim_sent", "courrier": "courrier_recu"}.get(key, key)
            got = getattr(facts, attr)
            got = got if isinstance(got, bool) else _value(got)
            rows.append((key, want, got, got == want))
    return rows
