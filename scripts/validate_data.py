"""Run ``rasa data validate`` and fail on any warning it prints.

One kind of warning is a known false positive of Rasa 3.6's validator: "The utterance 'utter_x'
is not used in any story or rule" for responses that are sent by a form (``utter_ask_<slot>``),
by a custom action (``say(dispatcher, "utter_x")`` in actions/), by the desk (desk/) or by
Rasa's default fallback (``utter_default``). The validator only looks at stories and rules, so
it cannot see them. This script checks that each such response really is used in one of those
places, and fails otherwise: a response that nothing sends is still reported.

Likewise "The intent 'x__topic' is not used in any story or rule" for the NLU-only sub-intents
that permanence/intent_merge.py reports as their base intent ``x``, accepted only when ``x`` is
an intent of the domain.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WARNING = re.compile(r"UserWarning: (.+)")
UNUSED = re.compile(r"The utterance '([a-z_]+)' is not used in any story or rule\.")
UNUSED_INTENT = re.compile(r"The intent '([a-z_]+)' is not used in any story or rule\.")


def merged_sub_intents() -> set[str]:
    """The domain's ``<intent>__<topic>`` intents whose base intent is in the domain too."""
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    return {name for name in intents if "__" in name and name.split("__", 1)[0] in intents}


def used_outside_stories() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    used = {"utter_default"}  # sent by action_default_fallback
    for form in (domain.get("forms") or {}).values():
        used |= {f"utter_ask_{slot}" for slot in form.get("required_slots", [])}
    for path in [*(ROOT / "actions").rglob("*.py"), *(ROOT / "desk").rglob("*.py")]:
        used |= set(re.findall(r"[\"'](utter_[a-z_]+)[\"']", path.read_text(encoding="utf-8")))
    return used


def main() -> int:
    run = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    output = run.stdout + run.stderr
    allowed = used_outside_stories()
    sub_intents = merged_sub_intents()
    problems, explained = [], []
    for line in output.splitlines():
        match = WARNING.search(line)
        if not match:
            continue
        message = match.group(1).strip()
        unused = UNUSED.search(message)
        unused_intent = UNUSED_INTENT.search(message)
        if unused and unused.group(1) in allowed:
            explained.append(unused.group(1))
        elif unused_intent and unused_intent.group(1) in sub_intents:
            explained.append(unused_intent.group(1))
        else:
            problems.append(message)
    print(f"rasa data validate: exit {run.returncode}, {len(explained)} responses sent by forms "
          f"or custom actions, or NLU-only sub-intents (not visible to Rasa 3.6's story check), "
          f"{len(problems)} warnings")
    for problem in problems:
        print(f"  WARNING: {problem}")
    if run.returncode != 0 and not problems:
        print(output[-3000:])
    return 1 if problems or run.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
