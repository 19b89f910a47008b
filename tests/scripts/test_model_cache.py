"""The model cache's key (scripts/model_cache.py): the same inputs give the same key, any change
of a file's content, of the set of files or of the Rasa version gives another."""

from __future__ import annotations

from pathlib import Path

from scripts.model_cache import cache_dir, training_key


def inputs(root: Path, **files: str) -> list[str]:
    (root / "requirements.txt").write_text("rasa==3.6.21\n")
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [name.replace("__", "/") for name in files]


def test_the_same_inputs_give_the_same_key_in_any_order(tmp_path):
    paths = inputs(tmp_path, domain_yml="intents: []", data__nlu_yml="nlu: []")
    key = training_key(paths, "3.6.21", tmp_path)
    assert training_key(list(reversed(paths)), "3.6.21", tmp_path) == key
    assert training_key([f"./{p}" for p in paths], "3.6.21", tmp_path) == key
    assert len(key) == 64


def test_a_change_of_content_files_lock_or_rasa_gives_another_key(tmp_path):
    paths = inputs(tmp_path, domain_yml="intents: []", data__nlu_yml="nlu: []")
    key = training_key(paths, "3.6.21", tmp_path)
    assert training_key(paths, "3.6.20", tmp_path) != key
    assert training_key(paths[:1], "3.6.21", tmp_path) != key
    (tmp_path / "data/nlu_yml").write_text("nlu: [x]")
    changed = training_key(paths, "3.6.21", tmp_path)
    assert changed != key
    (tmp_path / "requirements.txt").write_text("rasa==3.6.21\ntensorflow==2.12.0\n")
    assert training_key(paths, "3.6.21", tmp_path) not in (key, changed)


def test_the_cache_is_outside_the_clone(monkeypatch, tmp_path):
    monkeypatch.delenv("PERMANENCE_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "permanence" / "models"
    monkeypatch.setenv("PERMANENCE_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
