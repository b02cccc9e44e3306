"""Orders as the optimizer sees them: the order they come after."""

from datetime import timedelta

import pytest

from core.clock import now
from dispatch.planning import visit_spec
from tests.factories import post_order
from workorders.models import WorkOrder

pytestmark = pytest.mark.usefixtures("morning")


def test_order_opened_from_another_is_planned_after_it(client, world, db):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    ids = world.customer("客户", lat=31.86, lon=117.27)
    repair_id = post_order(client, h, ids)
    follow_id = post_order(client, h, ids, product="iptv_adsl", kind="install")
    follow = db.get(WorkOrder, follow_id)
    follow.parent_id = repair_id
    db.commit()
    day = now().date() + timedelta(days=1)

    repair = visit_spec(db.get(WorkOrder, repair_id), day)
    follow_up = visit_spec(db.get(WorkOrder, follow_id), day)

    assert repair.after == ()
    assert follow_up.after == (repair_id,)
    assert repair.crew_size == follow_up.crew_size == 1
