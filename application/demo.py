"""A realistic demo city (Hefei): districts, technicians, customers, lines and orders.

Coordinates come from a local table, never from a geocoding service.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from application.demo_complaints import seed_complaints
from application.demo_followups import seed_followups
from application.demo_stock import seed_stock
from core.accounts import create_user
from core.actor import Actor
from core.auth import hash_password
from core.clock import now
from core.models import User
from technicians.models import Technician
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import Customer, LineRecord, Site, WorkOrder

DEMO_PASSWORD = "demo1234"

# district -> (lat, lon) of its centre, and a spread in degrees
DISTRICTS: dict[str, tuple[float, float]] = {
    "蜀山区": (31.851, 117.260),
    "包河区": (31.793, 117.309),
    "庐阳区": (31.878, 117.265),
    "瑶海区": (31.858, 117.309),
    "高新区": (31.820, 117.200),
    "经开区": (31.777, 117.220),
    "滨湖新区": (31.730, 117.290),
}
SPREAD_DEG = 0.03
STREETS = (
    "长江西路",
    "黄山路",
    "望江路",
    "金寨路",
    "合作化路",
    "马鞍山路",
    "徽州大道",
    "繁华大道",
    "方兴大道",
    "潜山路",
    "翡翠路",
    "天鹅湖路",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "霞", "平")
COMPANIES = (
    "徽商物流",
    "合肥科创",
    "江淮制造",
    "庐州银行",
    "滨湖医院",
    "包河中学",
    "巢湖酒店",
    "蜀山软件园",
    "新站电子",
    "高新生物",
)
SKILL_SETS = (
    ["adsl", "lan"],
    ["adsl", "iptv"],
    ["lan", "iptv"],
    ["adsl", "lan", "iptv"],
    ["enterprise_circuit", "lan"],
    ["enterprise_circuit", "enterprise_app", "lan"],
    ["adsl", "lan", "iptv", "enterprise_circuit"],
)
STAFF = (
    ("admin", "admin", "系统管理员"),
    ("dispatcher", "dispatcher", "调度员 陈静"),
    ("manager", "manager", "经理 王磊"),
    ("agent", "agent", "热线坐席 李娜"),
)
RESIDENTIAL_PRODUCTS = {
    "adsl": ("adsl", "iptv_adsl", "bundle_adsl_iptv"),
    "lan": ("lan", "iptv_lan", "bundle_lan_iptv"),
}
ENTERPRISE_PRODUCTS = ("ddn", "sdh", "mpls_vpn", "lan_dedicated", "xdsl", "logistics_e")
TIERS = ("group", "provincial", "local_a", "local_b", "local_c")


def _point(rng: random.Random, district: str) -> tuple[float, float]:
    lat, lon = DISTRICTS[district]
    return (
        round(lat + rng.uniform(-SPREAD_DEG, SPREAD_DEG), 6),
        round(lon + rng.uniform(-SPREAD_DEG, SPREAD_DEG), 6),
    )


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def seed_city(
    session: Session,
    technicians: int = 40,
    orders: int = 300,
    seed: int = 7,
    companies: bool = False,
    stock: bool = True,
) -> list[str]:
    """Seed the demo city once; a second run leaves an already seeded database alone.

    ``companies`` adds the two company accounts (:func:`seed_companies`), whose orders
    are already under way; the planning tests seed the city without them. ``stock``
    stocks a depot and every van (``application.demo_stock``).
    """
    if session.scalar(select(func.count()).select_from(User)):
        return ["database already has users; demo seed skipped", *demo_logins(session)]
    rng = random.Random(seed)
    seeding = _Seeding(session)
    for username, role, name in STAFF:
        seeding.add_user({"username": username, "role": role, "display_name": name})
    dispatcher = session.scalar(select(User).where(User.username == "dispatcher"))
    staff_actor = Actor(user_id=dispatcher.id, username="dispatcher", role="dispatcher", origin="seed")
    _seed_technicians(seeding, rng, technicians)
    session.flush()
    stock_line = seed_stock(session, staff_actor, seed) if stock else None
    customers = _seed_customers(session, rng, max(orders // 2, 10))
    enterprise = next(customer for customer, _site, _line in customers if customer.kind == "enterprise")
    seeding.add_user(
        {
            "username": "enterprise",
            "role": "customer",
            "display_name": enterprise.name,
            "customer_id": enterprise.id,
        }
    )
    today = now().date()
    for i in range(orders):
        wo_service.create_order(session, staff_actor, _order_data(rng, *customers[i % len(customers)], today))
    seed_complaints(session)
    # After the city, with its own random numbers: the city is the same with or without them.
    company_orders = seed_companies(seeding, random.Random(seed + 1000)) if companies else 0
    followup_lines = seed_followups(session)  # the companies' follow-ups in every state (none without)
    session.commit()
    blocked = session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.blocked.is_(True)))
    summary = [
        f"seeded {technicians} technicians, {len(customers)} customers and {orders} "
        f"orders for {today} ({blocked} blocked by the installation code)"
    ]
    if companies:
        accounts = len(COMPANY_ACCOUNTS)
        summary.append(
            f"seeded {accounts} company accounts with {company_orders} orders (one in every state)"
        )
    if stock_line:
        summary.append(stock_line)
    return [*summary, *followup_lines, *demo_logins(session)]


class _Seeding:
    """Users made by the seed: one shared password, hashed once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.actor = Actor(user_id=None, username="seed", role="admin", origin="cli")
        self.shared_hash = hash_password(DEMO_PASSWORD)

    def add_user(self, data: dict) -> User:
        return create_user(
            self.session, self.actor, {**data, "password": DEMO_PASSWORD}, password_hash=self.shared_hash
        )


def _seed_technicians(seeding: _Seeding, rng: random.Random, count: int) -> None:
    """Technicians spread over the districts; a third start early (08:00-17:00)."""
    names = list(DISTRICTS)
    for i in range(count):
        district = names[i % len(names)]
        user = seeding.add_user(
            {"username": f"tech{i + 1:02d}", "role": "technician", "display_name": _person(rng)}
        )
        lat, lon = _point(rng, district)
        early = i % 3 == 0
        seeding.session.add(
            Technician(
                user_id=user.id,
                name=user.display_name,
                phone=_phone(rng),
                skills=list(SKILL_SETS[i % len(SKILL_SETS)]),
                district=district,
                home_lat=lat,
                home_lon=lon,
                shift_start=time(8, 0) if early else time(9, 0),
                shift_end=time(17, 0) if early else time(18, 0),
                lunch_start=time(11, 30) if early else time(12, 0),
                lunch_duration_min=60,
                max_work_min=480,
            )
        )


def _seed_customers(
    session: Session, rng: random.Random, count: int
) -> list[tuple[Customer, Site, LineRecord]]:
    """Customers (every fifth an enterprise), each with one site and its access line."""
    names = list(DISTRICTS)
    customers: list[tuple[Customer, Site, LineRecord]] = []
    for i in range(count):
        enterprise = i % 5 == 0
        district = rng.choice(names)
        customer = Customer(
            name=rng.choice(COMPANIES) + f"{i}号" if enterprise else _person(rng),
            kind="enterprise" if enterprise else "residential",
            enterprise_tier=rng.choice(TIERS) if enterprise else None,
            phone=_phone(rng),
            contact_name=_person(rng),
        )
        lat, lon = _point(rng, district)
        site = Site(
            customer=customer,
            district=district,
            lat=lat,
            lon=lon,
            address=f"合肥市{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
        )
        access = "lan" if enterprise or rng.random() < 0.5 else "adsl"
        line = LineRecord(
            site=site,
            access_type=access,
            route_length_m=round(rng.uniform(300, 3200), 0) if access == "adsl" else None,
            switch_id=f"SW-{district[:2]}-{rng.randint(1, 60):03d}" if access == "lan" else None,
            switch_model="S2326TP" if access == "lan" else None,
            switch_occupancy_pct=round(rng.uniform(30, 95), 1) if access == "lan" else None,
        )
        session.add_all([customer, site, line])
        customers.append((customer, site, line))
    session.flush()
    return customers


def _order_data(rng: random.Random, customer: Customer, site: Site, line: LineRecord, today: date) -> dict:
    """One demo order for the customer: mostly repairs; installs often booked for the morning or afternoon."""
    kind = "repair" if rng.random() < 0.55 else "install"
    if customer.kind == "enterprise":
        product = rng.choice(ENTERPRISE_PRODUCTS)
    else:
        product = rng.choice(RESIDENTIAL_PRODUCTS[line.access_type])
    _name_circuit(line, product)
    product = line.product or product
    priority = rng.choices(("P1", "P2", "P3"), weights=(1, 3, 6))[0] if kind == "repair" else "P3"
    window = rng.choice(("am", "pm", None)) if kind == "install" else None
    start = end = None
    if window == "am":
        start, end = datetime.combine(today, time(9)), datetime.combine(today, time(12))
    elif window == "pm":
        start, end = datetime.combine(today, time(13)), datetime.combine(today, time(18))
    return {
        "kind": kind,
        "product": product,
        "priority": priority,
        "source": rng.choice(("hotline", "account_manager", "monitoring", "customer")),
        "customer_id": customer.id,
        "site_id": site.id,
        "line_id": line.id,
        "description": "演示工单",
        "appointment_start": start,
        "appointment_end": end,
    }


def demo_logins(session: Session) -> list[str]:
    """One line per demo login (all share DEMO_PASSWORD), then each company's logins."""
    lines = ["demo logins (password " + DEMO_PASSWORD + "):"]
    for role in ("admin", "dispatcher", "manager", "agent", "technician", "customer"):
        names = list(session.scalars(select(User.username).where(User.role == role).order_by(User.username)))
        if names:
            shown = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"
            lines.append(f"  {role:<11} {shown}")
    companies = session.scalars(
        select(Customer).where(Customer.account_manager_id.is_not(None)).order_by(Customer.id)
    )
    for company in companies:
        users = session.scalars(select(User).where(User.customer_id == company.id).order_by(User.id))
        names = [f"{u.username} (administrator)" if u.company_admin else u.username for u in users]
        manager = session.get(User, company.account_manager_id)
        lines.append(
            f"  company     {company.name} ({company.enterprise_tier}): {', '.join(names)}; "
            f"account manager {manager.username}"
        )
    return lines


# ---------------------------------------------------------------- company accounts

ACCOUNT_MANAGER = ("accountmgr", "agent", "客户经理 周涛")
# name, tier, district, logins (username, name, company administrator),
# sites (street and number, LAN circuits there); the last site is new, not yet placed on the map.
COMPANY_ACCOUNTS = (
    (
        "庐州银行",
        "group",
        "庐阳区",
        (
            ("bank_admin", "庐州银行 信息科 王芳", True),
            ("bank_ops", "庐州银行 运维 李军", False),
            ("bank_branch", "庐州银行 包河支行 陈静", False),
        ),
        (
            ("长江中路98号 总行", 2),
            ("望江路200号 包河支行", 1),
            ("潜山路66号 数据中心", 2),
            ("新站区站前路1号 新网点", 1),
        ),
    ),
    (
        "滨湖医院",
        "local_a",
        "滨湖新区",
        (
            ("hospital_admin", "滨湖医院 信息中心 张伟", True),
            ("hospital_it", "滨湖医院 网络管理 刘洋", False),
            ("hospital_ward", "滨湖医院 住院部 赵敏", False),
        ),
        (
            ("徽州大道1号 门诊楼", 2),
            ("方兴大道8号 住院楼", 1),
            ("天鹅湖路3号 体检中心", 1),
            ("紫云路5号 新院区", 1),
        ),
    ),
)
# The moves that bring a new (validated) order to each state; "received" is an order at the unplaced site.
STATE_PATHS: dict[str, tuple[str, ...]] = {
    State.VALIDATED: (),
    State.SCHEDULED: (State.SCHEDULED,),
    State.ASSIGNED: (State.ASSIGNED,),
    State.EN_ROUTE: (State.ASSIGNED, State.EN_ROUTE),
    State.ON_SITE: (State.ASSIGNED, State.EN_ROUTE, State.ON_SITE),
    State.COMPLETED: (State.ASSIGNED, State.EN_ROUTE, State.ON_SITE, State.COMPLETED),
    State.FOLLOWED_UP: (State.ASSIGNED, State.EN_ROUTE, State.ON_SITE, State.COMPLETED, State.FOLLOWED_UP),
    State.CLOSED: (
        State.ASSIGNED,
        State.EN_ROUTE,
        State.ON_SITE,
        State.COMPLETED,
        State.FOLLOWED_UP,
        State.CLOSED,
    ),
    State.CANCELLED: (State.CANCELLED,),
    State.NEEDS_REVISIT: (State.ASSIGNED, State.EN_ROUTE, State.NEEDS_REVISIT),
}


def seed_companies(seeding: _Seeding, rng: random.Random) -> int:
    """Two enterprise companies with their logins (one administrator each), an account
    manager, sites and circuits, and an order in every state; returns how many orders."""
    session = seeding.session
    username, role, name = ACCOUNT_MANAGER
    manager = seeding.add_user(
        {"username": username, "role": role, "display_name": name, "phone": _phone(rng)}
    )
    admin = session.scalar(select(User).where(User.username == "admin"))
    actor = Actor(user_id=admin.id, username=admin.username, role="admin", origin="seed")
    count = 0
    for name, tier, district, logins, sites in COMPANY_ACCOUNTS:
        company = Customer(
            name=name,
            kind="enterprise",
            enterprise_tier=tier,
            phone=_phone(rng),
            contact_name=logins[0][1].split()[-1],
            account_manager_id=manager.id,
        )
        session.add(company)
        session.flush()
        for login, display, company_admin in logins:
            seeding.add_user(
                {
                    "username": login,
                    "role": "customer",
                    "display_name": display,
                    "customer_id": company.id,
                    "company_admin": company_admin,
                }
            )
        circuits = _company_sites(session, rng, company, district, sites)
        count += _company_orders(session, actor, rng, company, circuits)
    return count


def _company_sites(
    session: Session, rng: random.Random, company: Customer, district: str, sites: tuple
) -> list[tuple[Site, LineRecord]]:
    """The company's sites and LAN circuits; the last site has no coordinates yet."""
    circuits = []
    for number, (address, lines) in enumerate(sites):
        placed = number < len(sites) - 1
        lat, lon = _point(rng, district) if placed else (None, None)
        site = Site(
            customer=company, district=district, lat=lat, lon=lon, address=f"合肥市{district}{address}"
        )
        for _ in range(lines):
            line = LineRecord(
                site=site,
                access_type="lan",
                switch_id=f"SW-{district[:2]}-{rng.randint(1, 60):03d}",
                switch_model="S5735-L",
                switch_occupancy_pct=round(rng.uniform(20, 70), 1),
            )
            session.add(line)
            circuits.append((site, line))
    session.flush()
    return circuits


ENTERPRISE_CIRCUIT_PRODUCTS = ("lan_dedicated", "mpls_vpn", "sdh", "ddn")


def _company_orders(
    session: Session, actor: Actor, rng: random.Random, company: Customer, circuits: list
) -> int:
    """One order per state at the company's placed circuits, walked there through the lifecycle;
    one at the unplaced site, which stays received (blocked until it is placed)."""
    placed = [(site, line) for site, line in circuits if site.lat is not None]
    unplaced = next((site, line) for site, line in circuits if site.lat is None)
    for i, state in enumerate(STATE_PATHS):
        site, line = placed[i % len(placed)]
        order = _company_order(session, actor, rng, company, site, line)
        for target in STATE_PATHS[state]:
            if not _move(session, actor, order, target):
                break  # a small city may have nobody for the circuit: the order waits, validated
    _company_order(session, actor, rng, company, *unplaced)
    return len(STATE_PATHS) + 1


def _name_circuit(line: LineRecord, product: str) -> None:
    """The circuit's number and product as the contract has them, on its first order."""
    if line.circuit_no is None:
        prefix = "HF-ENT" if product in ENTERPRISE_CIRCUIT_PRODUCTS else f"0551-{line.access_type.upper()}"
        line.circuit_no = f"{prefix}-{line.id:06d}"
        line.product = product


def _company_order(
    session: Session, actor: Actor, rng: random.Random, company: Customer, site: Site, line: LineRecord
) -> WorkOrder:
    product = rng.choice(ENTERPRISE_CIRCUIT_PRODUCTS)
    _name_circuit(line, product)
    data = {
        "kind": "repair",
        "product": line.product or product,
        "priority": rng.choice(("P1", "P2", "P3")),
        "source": rng.choice(("hotline", "account_manager", "monitoring")),
        "customer_id": company.id,
        "site_id": site.id,
        "line_id": line.id,
        "description": "演示工单：专线故障",
    }
    return wo_service.create_order(session, actor, data)


def _move(session: Session, actor: Actor, order: WorkOrder, target: str) -> bool:
    """One lifecycle move with what it needs: a qualified technician, a reason, a follow-up.
    False when nobody is qualified to be assigned."""
    details: dict = {}
    if target == State.ASSIGNED:
        skilled = [
            t.id
            for t in session.scalars(select(Technician).order_by(Technician.id))
            if set(order.required_skills) <= set(t.skills)
        ]
        if not skilled:
            return False
        details["technician_id"] = skilled[order.id % len(skilled)]
    elif target == State.ON_SITE:
        details.update(lat=order.site.lat, lon=order.site.lon)
    elif target in (State.CANCELLED, State.NEEDS_REVISIT):
        details["reason"] = "客户取消" if target == State.CANCELLED else "客户不在现场"
    elif target == State.FOLLOWED_UP:
        details["followup"] = {"method": "phone", "satisfied": True, "service_working": True}
    wo_service.transition(session, actor, order, target, **details)
    return True
