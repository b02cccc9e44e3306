"""Text a person reads, kept as an English message id and its values until it is shown.

Services know neither Flask nor the reader: they refuse with a message id and
its values (:class:`core.errors.DomainError`), and a value may itself be a
message, such as a state's label (:class:`Message`) or a list of skills
(:class:`Listing`). Everything is rendered in the reader's language where the
answer is built: the refusal's detail, and every field's message in the
``errors`` map of a 422, whether a service, a schema's own validator or
marshmallow made it. marshmallow's own English texts are message ids too; the
ones it fills in with values (``"Length must be between 1 and 80."``) are
matched against :data:`FIELD_TEMPLATES` and translated with their values.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import get_locale, gettext, pgettext


def N_(msgid: str) -> str:
    """Mark a message for extraction; it is translated where it is rendered."""
    return msgid


class Message(str):
    """A message id with its values, ``Message("%(name)s lacks ...", name="Li")``.

    As a string it reads as the English text (logs, tests); :meth:`render`
    gives it in the reader's language. ``context`` tells apart two meanings of
    the same English words (``Message("Cancelled", context="order state")``).
    """

    msgid: str
    params: dict[str, Any]
    context: str | None

    def __new__(cls, msgid: str, context: str | None = None, **params: Any) -> Message:
        message = super().__new__(cls, msgid % params if params else msgid)
        message.msgid, message.params, message.context = msgid, params, context
        return message

    def render(self) -> str:
        """The message in the request's language (English outside a request)."""
        params = {name: _rendered_value(value) for name, value in self.params.items()}
        if self.context:
            return pgettext(self.context, self.msgid, **params)
        return gettext(self.msgid, **params)


class Listing(str):
    """Several values as one parameter: "ADSL, IPTV" in English, each item
    rendered and joined the way the reader's language lists things."""

    items: tuple[str, ...]

    def __new__(cls, items: list[str] | tuple[str, ...]) -> Listing:
        listing = super().__new__(cls, ", ".join(items))
        listing.items = tuple(items)
        return listing

    def render(self) -> str:
        separator = "、" if _language() == "zh" else ", "
        return separator.join(_rendered_value(item) for item in self.items)


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _rendered_value(value: Any) -> Any:
    """A parameter as shown: messages and listings translated, anything else as it is."""
    return value.render() if isinstance(value, (Message, Listing)) else value


def render(msgid: str, params: dict[str, Any] | None = None) -> str:
    """``gettext(msgid, **params)`` with every message among the values translated too."""
    return Message(msgid, **(params or {})).render()


# marshmallow's own messages, as its fields and validators in this service's schemas
# raise them. Fixed texts are message ids as they stand; a text marshmallow fills in
# (``.format(min=..., max=...)``) is read back by the pattern of its template here.
FIELD_MESSAGES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid JSON body."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid number."),
    N_("Not a valid integer."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid boolean."),
    N_("Not a valid mapping type."),
    N_("Not a valid list."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid time."),
    N_("Not a valid email address."),
    N_("String does not match expected pattern."),
)
FIELD_TEMPLATES = (
    N_("Must be one of: %(choices)s."),
    N_("Length must be between %(min)s and %(max)s."),
    N_("Length must be %(equal)s."),
    N_("Shorter than minimum length %(min)s."),
    N_("Longer than maximum length %(max)s."),
    # Range's texts for inclusive bounds (no schema here uses exclusive ones).
    N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than or equal to %(min)s."),
    N_("Must be less than or equal to %(max)s."),
)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


# The longest first, so "between %(min)s and %(max)s" wins over "at least %(min)s".
_TEMPLATE_PATTERNS = tuple(
    (template, _pattern(template)) for template in sorted(FIELD_TEMPLATES, key=len, reverse=True)
)


def translate(text: Any) -> Any:
    """One field message in the reader's language: a :class:`Message` rendered, a
    text the catalog holds translated, a known marshmallow text filled in again
    with its values; anything else (already translated, or not text) as it is."""
    if isinstance(text, (Message, Listing)):
        return text.render()
    if not isinstance(text, str):
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    for template, pattern in _TEMPLATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return gettext(template, **match.groupdict())
    return text


def render_errors(errors: Any) -> Any:
    """The ``errors`` map of a 422 with every message translated; keys (field
    names, list positions) stay as they are."""
    if isinstance(errors, dict):
        return {key: render_errors(value) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [render_errors(value) for value in errors]
    return translate(errors)
