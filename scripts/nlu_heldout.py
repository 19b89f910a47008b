"""Held-out NLU check: classify examples that are not in the training data and score them.

    python -m scripts.nlu_heldout --model models/permanence.tar.gz --data tests/nlu_heldout

Prints macro-F1 over the ``question_*`` intents and the accuracy of the in-scope versus
``question_hors_champ`` decision, writes them to a JSON file, and exits 1 when either is below its
threshold (0.85 and 0.93 by default).

``--part NAME`` (repeatable) also reports the decision on the examples of ``NAME.yml`` alone and
exits 1 when it is below ``--min-part-scope`` (0.95 by default): the gate keeps a set apart, such
as everyday legal questions with no administration in them (issue #12), from being averaged away.

The decision is the one the assistant takes (``actions.domains.from_message``): the intent, or,
when a question is classified as a short answer or is uncertain, the best ``question_*`` intent of
the ranking. The same accuracy on the raw top intent is reported too.

The scope as the assistant then decides it (``actions.intake.scope``: a private party only is
out of scope; an administration named in a question read as out of scope makes the assistant
ask « Est-ce une administration qui a pris la décision ? ») is reported as
``assistant_scope_accuracy`` (an asked question counts as right: the person's answer decides),
with how many were asked; ``--part`` gates on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUT_OF_SCOPE = "question_hors_champ"


def load_examples(folder: Path) -> list[tuple[str, str, str]]:
    """(text, intent, file name without .yml) of every example of ``folder`` (or of one file)."""
    from rasa.shared.nlu.training_data.loading import load_data

    files = sorted(folder.glob("*.yml")) if folder.is_dir() else [folder]
    return [(m.get("text"), m.get("intent"), path.stem)
            for path in files for m in load_data(str(path)).intent_examples]


def part_scores(parts: list[str], sources: list[str], pairs: list[tuple[str, str]],
                decisions: list[str | None], assistant: list[str | None],
                ) -> dict[str, dict[str, float | int]]:
    """The routing decision's accuracy on the questions of each file named in ``parts``, from the
    NLU alone and as the assistant decides (facts included, asked questions apart)."""
    scores: dict[str, dict[str, float | int]] = {}
    for part in parts:
        rows = [(gold, decided, final) for source, (gold, _), decided, final
                in zip(sources, pairs, decisions, assistant, strict=True)
                if source == part and gold.startswith("question_")]
        if not rows:
            raise SystemExit(f"--part {part}: no question in {part}.yml")
        scores[part] = {
            "examples": len(rows),
            "scope_accuracy": round(sum(decision_correct(g, d) for g, d, _ in rows) / len(rows), 4),
            "assistant_scope_accuracy": round(
                sum(assistant_correct(g, f) for g, _, f in rows) / len(rows), 4),
            "asked": sum(f == ASK_SCOPE for _, _, f in rows),
        }
    return scores


ASK_SCOPE = "ask_scope"  # actions.intake.ASK_SCOPE


def assistant_correct(gold: str, decided: str | None) -> bool:
    """The assistant's scope: right, or asked (« Est-ce une administration… ? »)."""
    return decided == ASK_SCOPE or decision_correct(gold, decided)


def assistant_decisions(texts: list[str], parsed: list[dict]) -> list[str | None]:
    """The scope as ``action_route_question`` decides it from the NLU and the message's facts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from actions import domains, intake
    from actions import facts as F

    now = datetime(2026, 12, 8, 10, tzinfo=ZoneInfo("Europe/Paris"))
    decisions = []
    for text, parse in zip(texts, parsed, strict=True):
        ranked = next((d for d in (domains.from_intent(r.get("name"))
                                   for r in parse.get("intent_ranking") or [])
                       if d in domains.IN_SCOPE), None)
        decisions.append(intake.scope(domains.from_message(parse), F.extract(text, now), ranked))
    return decisions


def in_out_correct(gold: str, predicted: str) -> bool:
    """The decision that matters for routing: out of scope, or one of the in-scope domains.

    An in-scope question predicted as another in-scope domain still goes to triage (the person
    can correct the domain at the summary); predicted as anything else, it does not.
    """
    if gold == OUT_OF_SCOPE:
        return predicted == OUT_OF_SCOPE
    return predicted.startswith("question_") and predicted != OUT_OF_SCOPE


def decision_correct(gold: str, decided: str | None) -> bool:
    """The routing decision: gold out of scope must be decided out of scope, gold in scope must
    be decided as one of the in-scope domains (None, i.e. asking the person, counts as wrong)."""
    if gold == OUT_OF_SCOPE:
        return decided == "hors_champ"
    return decided is not None and decided != "hors_champ"


def score(pairs: list[tuple[str, str]], decisions: list[str | None]) -> dict[str, object]:
    from sklearn.metrics import classification_report, f1_score

    questions = [(g, p) for g, p in pairs if g.startswith("question_")]
    labels = sorted({g for g, _ in questions})
    gold = [g for g, _ in questions]
    pred = [p for _, p in questions]
    report = classification_report(gold, pred, labels=labels, output_dict=True, zero_division=0)
    others = [(g, p) for g, p in pairs if not g.startswith("question_")]
    return {
        "question_macro_f1": round(f1_score(gold, pred, labels=labels, average="macro",
                                            zero_division=0), 4),
        "in_out_accuracy": round(
            sum(decision_correct(g, d) for (g, _), d in zip(pairs, decisions, strict=True)
                if g.startswith("question_")) / max(len(questions), 1), 4),
        "in_out_accuracy_top_intent": round(sum(in_out_correct(g, p) for g, p in questions)
                                            / max(len(questions), 1), 4),
        "question_examples": len(questions),
        "other_intent_accuracy": round(sum(g == p for g, p in others) / max(len(others), 1), 4),
        "other_examples": len(others),
        "per_intent_f1": {k: round(v["f1-score"], 3) for k, v in report.items() if k in labels},
    }


async def predict(model: str, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [await agent.parse_message(text) for text in texts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/permanence.tar.gz")
    parser.add_argument("--data", default="tests/nlu_heldout")
    parser.add_argument("--min-f1", type=float, default=0.85)
    parser.add_argument("--min-in-out", type=float, default=0.93)
    parser.add_argument("--part", action="append", default=[],
                        help="also gate the scope decision on NAME.yml's examples alone")
    parser.add_argument("--min-part-scope", type=float, default=0.95)
    parser.add_argument("--out", default="results/nlu_heldout.json")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa logs every parsed text at debug level otherwise

    examples = load_examples(Path(args.data))
    from actions.domains import from_message

    parsed = asyncio.run(predict(args.model, [text for text, _, _ in examples]))
    predicted = [p["intent"]["name"] for p in parsed]
    pairs = [(gold, pred) for (_, gold, _), pred in zip(examples, predicted, strict=True)]
    decisions = [from_message(p) for p in parsed]
    result = score(pairs, decisions)
    assistant = assistant_decisions([text for text, _, _ in examples], parsed)
    questions = [(g, a) for (g, _), a in zip(pairs, assistant, strict=True)
                 if g.startswith("question_")]
    result["assistant_scope_accuracy"] = round(
        sum(assistant_correct(g, a) for g, a in questions) / max(len(questions), 1), 4)
    result["assistant_asked"] = sum(a == ASK_SCOPE for _, a in questions)
    result["parts"] = part_scores(args.part, [source for _, _, source in examples], pairs,
                                  decisions, assistant)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"Held-out NLU ({args.data}): {result['question_examples']} questions, "
          f"{result['other_examples']} other messages")
    for intent, f1 in result["per_intent_f1"].items():
        print(f"  {intent:<42} F1 {f1:.3f}")
    print(f"question_* macro-F1        {result['question_macro_f1']:.3f} (min {args.min_f1})")
    print(f"in-scope vs hors champ     {result['in_out_accuracy']:.3f} (min {args.min_in_out})"
          f"  [top intent alone: {result['in_out_accuracy_top_intent']:.3f}]")
    print(f"scope as the assistant decides {result['assistant_scope_accuracy']:.3f} "
          f"({result['assistant_asked']} asked « Est-ce une administration… ? »)")
    for part, values in result["parts"].items():
        print(f"scope decision on {part}.yml ({values['examples']} questions): NLU "
              f"{values['scope_accuracy']:.3f}, as the assistant decides "
              f"{values['assistant_scope_accuracy']:.3f} ({values['asked']} asked; "
              f"min {args.min_part_scope})")
    if result["other_examples"]:
        print(f"other intents accuracy     {result['other_intent_accuracy']:.3f} (reported only)")
    if args.show_errors:
        for (text, gold, _), pred in zip(examples, predicted, strict=True):
            if gold != pred:
                print(f"  [{gold} -> {pred}] {text}")
    ok = (result["question_macro_f1"] >= args.min_f1
          and result["in_out_accuracy"] >= args.min_in_out
          and all(values["assistant_scope_accuracy"] >= args.min_part_scope
                  for values in result["parts"].values()))
    print("NLU held-out check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
