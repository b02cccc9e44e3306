"""The technician API benchmark's data (``python -m bench mobile``): technicians
with logins and tokens, each with a day of orders assigned, and one technician on
site to take the photos."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.actor import Actor
    from core.models import User
    from technicians.models import Technician


@dataclass
class Stop:
    order_id: int
    lat: float
    lon: float


@dataclass
class Crew:
    token: str
    stops: list[Stop]


@dataclass
class Seeded:
    crews: list[Crew]
    photo_token: str
    photo_order_id: int
    photo_item_id: str


def seed(database_url: str, photo_dir: str, technicians: int, stops: int) -> Seeded:
    """Technicians with `stops` orders each, planned today and assigned, with tokens."""
    from application import create_app
    from core.actor import Actor
    from core.auth import hash_password, issue_tokens
    from core.clock import now
    from core.config import Config
    from core.db import get_session
    from core.migrate import upgrade
    from core.models import User

    upgrade(database_url)
    app = create_app(Config(DATABASE_URL=database_url, PHOTO_DIR=photo_dir))
    rng = random.Random(5)
    with app.app_context():
        session = get_session()
        shared_hash = hash_password("bench-pass-1")
        boss = User(
            username="bench_disp", password_hash=shared_hash, display_name="Dispatcher", role="dispatcher"
        )
        session.add(boss)
        session.flush()
        admin = Actor(user_id=boss.id, username=boss.username, role="dispatcher", origin="bench")
        day = now().date()
        crews: list[Crew] = []
        # One more technician than asked: the last one takes the photos.
        tech_users = _seed_technicians(session, rng, technicians + 1, shared_hash)
        session.flush()
        for index, (user, tech) in enumerate(tech_users):
            photographer = index == technicians
            crew_stops = [
                _seed_stop(session, admin, rng, user, tech, index, seq, day, photographer)
                for seq in range(1 if photographer else stops)
            ]
            token = issue_tokens(session, user, 4 * 3600, 4 * 3600)["access_token"]
            crews.append(Crew(str(token), crew_stops))
        session.commit()
        photo_crew = crews.pop()
        return Seeded(crews, photo_crew.token, photo_crew.stops[0].order_id, "r5_not_through_windows_doors")


def _seed_technicians(
    session: Session, rng: random.Random, count: int, password_hash: str
) -> list[tuple[User, Technician]]:
    """``count`` technicians with logins, living at random places in the district."""
    from core.models import User
    from technicians.models import Technician

    tech_users: list[tuple[User, Technician]] = []
    for i in range(count):
        user = User(
            username=f"bench_tech{i:03d}",
            password_hash=password_hash,
            display_name=f"装维{i:03d}",
            role="technician",
        )
        lat, lon = 31.80 + rng.uniform(0, 0.1), 117.20 + rng.uniform(0, 0.1)
        tech = Technician(
            user=user,
            name=user.display_name,
            skills=["adsl", "lan"],
            district="蜀山区",
            home_lat=lat,
            home_lon=lon,
        )
        session.add_all([user, tech])
        tech_users.append((user, tech))
    return tech_users


def _seed_stop(
    session: Session,
    admin: Actor,
    rng: random.Random,
    user: User,
    tech: Technician,
    index: int,
    seq: int,
    day: date,
    photographer: bool,
) -> Stop:
    """Stop ``seq`` of technician ``index``: a customer near their home with an ADSL line and
    an order assigned to them, overridden so it completes without the checklist. The
    photographer's one order is an install they are on site for already; the others are repairs."""
    from core.actor import Actor
    from workorders import service as wo_service

    lat, lon = tech.home_lat + rng.uniform(-0.02, 0.02), tech.home_lon + rng.uniform(-0.02, 0.02)
    customer = wo_service.create_customer(
        session,
        admin,
        {
            "name": f"用户{index:03d}-{seq}",
            "kind": "residential",
            "phone": f"138{index:04d}{seq:04d}",
        },
    )
    site = wo_service.add_site(
        session,
        admin,
        customer,
        {
            "address": f"合肥市蜀山区长江西路{index}-{seq}号",
            "district": "蜀山区",
            "lat": lat,
            "lon": lon,
        },
    )
    wo_service.add_line(session, admin, site, {"access_type": "adsl", "route_length_m": 900})
    order = wo_service.create_order(
        session,
        admin,
        {
            "kind": "install" if photographer else "repair",
            "product": "adsl",
            "priority": "P2",
            "source": "hotline",
            "customer_id": customer.id,
            "site_id": site.id,
        },
    )
    wo_service.transition(
        session,
        admin,
        order,
        "assigned",
        technician_id=tech.id,
        planned_start=datetime.combine(day, datetime.min.time()) + timedelta(hours=8, minutes=45 * seq),
    )
    order.planned_sequence = seq + 1
    # A supervisor's override lets the benchmark complete orders without
    # answering every checklist item.
    wo_service.record_override(session, admin, order, "load benchmark")
    if photographer:  # the photographer is on site already
        field_actor = Actor(user_id=user.id, username=user.username, role="technician", technician_id=tech.id)
        wo_service.transition(session, field_actor, order, "en_route")
        wo_service.transition(session, field_actor, order, "on_site", lat=lat, lon=lon)
    return Stop(order.id, lat, lon)
