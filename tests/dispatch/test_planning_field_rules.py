"""Orders as the optimizer sees them: crew size and the order they come after."""

from datetime import timedelta

import pytest

from core.clock import now
from dispatch.planning import visit_spec
from tests.factories import post_order
from workorders.models import WorkOrder

pytestmark = pytest.mark.usefixtures("morning")


def test_visit_spec_carries_crew_size_and_parent(client, world, db):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    ids = world.customer("客户", lat=31.86, lon=117.27)
    repair_id = post_order(client, h, ids)
    follow_id = post_order(client, h, ids, product="iptv_adsl", kind="install")
    follow = db.get(WorkOrder, follow_id)
    follow.parent_id = repair_id
    db.get(WorkOrder, repair_id).crew_size = 2
    db.commit()
    day = now().date() + timedelta(days=1)

    repair = visit_spec(db.get(WorkOrder, repair_id), day)
    follow_up = visit_spec(db.get(WorkOrder, follow_id), day)

    assert (repair.crew_size, repair.after) == (2, ())
    assert (follow_up.crew_size, follow_up.after) == (1, (repair_id,))


def test_new_orders_need_one_technician(client, world, db):
    world.user("disp", "dispatcher")
    ids = world.customer("客户", lat=31.86, lon=117.27)
    order = db.get(WorkOrder, post_order(client, world.headers("disp"), ids))
    assert order.crew_size == 1
