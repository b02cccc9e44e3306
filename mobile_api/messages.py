"""Field-level messages of the phone API, rendered in the reader's language.

A 422 names what is wrong with each field (``errors``). Those messages are
English message ids, whoever makes them: marshmallow's own (``"Unknown field."``),
the schemas' validators and the services' checks. A message with values is a
:class:`FieldMessage`, which keeps its msgid and values apart. Nothing is
translated where the message is made (the services know no Flask): the views
render the whole ``errors`` map with :func:`render_errors` where the problem
is built, so a Chinese answer carries Chinese details.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.errors import N_

_PARAM = re.compile(r"%\((\w+)\)")

# marshmallow's own messages, raised by the fields the phone's schemas use. Marked
# here so the catalog keeps them; their translations live with the others.
MISSING_FIELD = N_("Missing data for required field.")
UNKNOWN_FIELD = N_("Unknown field.")
# An enumerated field got a value it does not know (the codes are in the API description).
NOT_ACCEPTED = N_("Not one of the accepted values.")
MARSHMALLOW_MESSAGES = (
    MISSING_FIELD,
    UNKNOWN_FIELD,
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid number."),
    N_("Not a valid integer."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid boolean."),
    N_("Not a valid mapping type."),
    N_("Not a valid list."),
    N_("Invalid type."),
    N_("Invalid input type."),
)


class FieldMessage(str):
    """A field-level message id with its values,
    ``FieldMessage("Must be between %(min)s and %(max)s.", min=0, max=90)``.

    As a string it reads as the English text (logs, tests). marshmallow fills a
    validator's message with ``.format(min=..., max=..., choices=...)``; here that
    keeps the values the msgid names, so the message is translated whole later.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> FieldMessage:
        message = super().__new__(cls, msgid % params if params else msgid)
        message.msgid = msgid
        message.params = params
        return message

    def format(self, *_args: Any, **values: Any) -> FieldMessage:  # type: ignore[override]
        named = {name: values[name] for name in _PARAM.findall(self.msgid) if name in values}
        return FieldMessage(self.msgid, **named)

    def render(self, gettext: Callable[..., str]) -> str:
        """The message in the language ``gettext`` speaks."""
        return gettext(self.msgid, **self.params) if self.params else gettext(self.msgid)


def render_errors(errors: Any, gettext: Callable[..., str]) -> Any:
    """The ``errors`` map of a problem with every message translated.

    Keys (field names, list positions) stay as they are; a plain string is a
    msgid (a text the catalog lacks, or one already translated, stays as it is).
    """
    if isinstance(errors, FieldMessage):
        return errors.render(gettext)
    if isinstance(errors, str):
        return gettext(errors)
    if isinstance(errors, dict):
        return {key: render_errors(value, gettext) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [render_errors(value, gettext) for value in errors]
    return errors
