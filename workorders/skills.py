"""The one check that a technician can do an order's work.

Which skills an order needs is the rule file's to say (``standards.required_skills``,
stored on the order at intake); which of them a technician lacks is
``technicians.service.missing_skills``. :func:`check_skills` refuses every way
an order reaches a technician without them (a transition to ``assigned``, the
console's assign and move) with the same answer: 409 ``skills-missing``.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import N_, Conflict
from technicians.models import Technician
from technicians.service import missing_skills
from workorders.labels import terms
from workorders.models import WorkOrder


class SkillsMissing(Conflict):
    slug = "skills-missing"


def check_skills(order: WorkOrder, technician: Technician, valid_skills: Iterable[str] | None = None) -> None:
    """Refuse (409 ``skills-missing``) unless the technician has every skill the order needs
    (of ``valid_skills`` when given: those whose certificate is valid on the day planned).

    The refusal names the missing skills by their labels; its extensions carry
    the codes (``missing_skills``) and the technician's id.
    """
    if valid_skills is None:
        missing = missing_skills(technician, order.required_skills)
    else:
        missing = sorted(set(order.required_skills or ()) - set(valid_skills))
    if missing:
        raise SkillsMissing(
            N_("%(name)s lacks the skills: %(skills)s."),
            params={"name": technician.name, "skills": terms("skill", missing)},
            missing_skills=missing,
            technician_id=technician.id,
        )
