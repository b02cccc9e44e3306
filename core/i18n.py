"""Language choice (Chinese by default, English on request) and catalog compilation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session


def select_locale() -> str:
    """?lang= wins (and is remembered in the session), then the session, then the header."""
    wanted = request.args.get("lang")
    if wanted in ("zh", "en"):
        session["lang"] = wanted
        return wanted
    if session.get("lang") in ("zh", "en"):
        return session["lang"]
    best = request.accept_languages.best_match(["zh", "en"])
    return best or "zh"


def compile_catalogs(translations_dir: Path) -> None:
    """Compile every messages.po to messages.mo when the .mo is missing or older."""
    for po_path in translations_dir.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
