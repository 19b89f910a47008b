"""Trained models kept outside the clone, keyed by what the training reads (used by `make train`).

    python -m scripts.model_cache path FILE...   # the cached model for these inputs (may not exist)

The key is a SHA-256 of the Rasa version, the lock file (requirements.txt: TensorFlow and the
rest) and every training input given (domain.yml, config.yml, data/, the custom components),
each by its path and its bytes. A model is cached only once `rasa train` succeeded, so a hit is
a model trained from the very same inputs. The cache: ``$XDG_CACHE_HOME/permanence/models``
(``~/.cache/permanence/models`` by default), or ``PERMANENCE_MODEL_CACHE``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALWAYS = ("requirements.txt",)


def cache_dir() -> Path:
    explicit = os.environ.get("PERMANENCE_MODEL_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "permanence" / "models"


def training_key(paths: list[str], rasa_version: str, root: Path = ROOT) -> str:
    """The hex digest of the inputs: the same files (by path relative to ``root`` and content)
    and the same Rasa version give the same key, in whatever order the paths come."""
    digest = hashlib.sha256(f"rasa {rasa_version}\n".encode())
    relative = sorted({str((root / path).resolve().relative_to(root.resolve()))
                       for path in (*paths, *ALWAYS)})
    for name in relative:
        content = (root / name).read_bytes()
        digest.update(f"{name}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["path"])
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    key = training_key(args.inputs, metadata.version("rasa"))
    print(cache_dir() / f"{key}.tar.gz")


if __name__ == "__main__":
    main()
