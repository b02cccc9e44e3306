"""Language choice (Chinese by default, English on request), catalog compilation and
durations as people read them ("1小时58分", "1 h 58 min")."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_babel import get_locale, gettext

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    """?lang= wins (and is remembered in the session), then the session, then the header."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or "zh"


def current_lang() -> str:
    """'zh' or 'en', from ?lang=, the session or Accept-Language (:func:`select_locale`)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def format_duration(seconds: float) -> str:
    """A length of time in the reader's language, to the minute: "2天3小时",
    "1小时58分", "45分" in Chinese; "2 d 3 h", "1 h 58 min", "45 min" in English."""
    minutes = max(int(abs(seconds)) // 60, 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext("%(days)s d %(hours)s h", days=days, hours=hours)
    if hours:
        return gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return gettext("%(minutes)s min", minutes=minutes)


def time_left(seconds: float) -> str:
    """Time to a deadline: "剩余 1小时58分" / "1 h 58 min left", or how far past it."""
    if seconds >= 0:
        return gettext("%(time)s left", time=format_duration(seconds))
    return gettext("%(time)s over", time=format_duration(seconds))


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
