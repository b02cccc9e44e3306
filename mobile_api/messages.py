"""Field-level messages of the phone's schemas that carry values.

A 422 names what is wrong with each field (``errors``). Every message there
is an English message id or a :class:`core.messages.Message`, and the error
handler renders the whole map in the reader's language
(``core.errors.domain_problem``, ``http_exception_problem``). The schemas'
validators refuse with a :class:`FieldMessage`: a Message marshmallow can
fill in with the validator's values.
"""

from __future__ import annotations

import re
from typing import Any

from core.messages import N_, Message

_PARAM = re.compile(r"%\((\w+)\)")

# An enumerated field got a value it does not know (the codes are in the API description).
NOT_ACCEPTED = N_("Not one of the accepted values.")


class FieldMessage(Message):
    """A validator's message id, ``FieldMessage("Must be between %(min)s and %(max)s.")``.

    marshmallow fills a validator's message in with ``.format(min=..., max=...,
    choices=...)``; here that keeps the values the msgid names, as a Message
    rendered whole in the reader's language.
    """

    def format(self, *_args: Any, **values: Any) -> FieldMessage:  # type: ignore[override]
        named = {name: values[name] for name in _PARAM.findall(self.msgid) if name in values}
        return FieldMessage(self.msgid, context=self.context, **named)
