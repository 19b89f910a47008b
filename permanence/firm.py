"""The firm's details (name, lawyer, barreaux, contact, privacy notice), read from one file.

The file is ``firm.yml`` at the project root, or the path in ``PERMANENCE_FIRM_FILE``.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "firm.yml"


@dataclass(frozen=True)
class Firm:
    firm_name: str
    lawyer_name: str
    structure: str
    barreaux: str
    contact: str
    address: str
    privacy_url: str
    account_handle: str = ""

    @property
    def identity(self) -> str:
        """The identification the opening gives (RIN art. 10, LEGAL.md S2): who, the structure,
        the barreaux and how to reach them. The address is in the full notice (``privacy_url``)."""
        return f"{self.firm_name} ({self.structure}, {self.barreaux}, {self.contact})"

    def as_slots(self) -> dict[str, str]:
        """The values the responses in domain.yml interpolate."""
        return {
            "firm_name": self.firm_name,
            "lawyer_name": self.lawyer_name,
            "firm_identity": self.identity,
            "firm_contact": self.contact,
            "privacy_url": self.privacy_url,
        }


@lru_cache(maxsize=4)
def _load(path: str) -> Firm:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    fields = Firm.__dataclass_fields__
    missing = [name for name, f in fields.items() if f.default is MISSING and name not in data]
    if missing:
        raise ValueError(f"{path}: missing keys {', '.join(sorted(missing))}")
    return Firm(**{k: str(v) for k, v in data.items() if k in fields})


def load_firm(path: str | os.PathLike[str] | None = None) -> Firm:
    """The firm's details from ``path``, ``$PERMANENCE_FIRM_FILE`` or ``firm.yml``."""
    return _load(str(path or os.environ.get("PERMANENCE_FIRM_FILE") or DEFAULT_PATH))
