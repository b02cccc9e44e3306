"""Company accounts through the API: the company, its account manager, its logins, its sites and circuits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import ApiToken, User
from tests.factories import PASSWORD

BASE = "/api/v1/companies"


@pytest.fixture()
def bank(world, db):
    """A group-tier bank with an administrator and a colleague; a hospital with one user;
    an administrator and two agents, one of them the bank's account manager."""
    from workorders.models import Customer

    ids = world.enterprise("徽商银行", tier="group")
    hospital = world.enterprise("滨湖医院", tier="local_a")
    world.user("root", "admin")
    manager_id = world.user("am", "agent")
    world.user("other-agent", "agent")
    admin_id = world.user("bank-admin", "customer", customer_id=ids["customer_id"])
    clerk_id = world.user("bank-clerk", "customer", customer_id=ids["customer_id"])
    world.user("nurse", "customer", customer_id=hospital["customer_id"])
    db.get(User, admin_id).company_admin = True
    db.get(Customer, ids["customer_id"]).account_manager_id = manager_id
    db.commit()
    return ids | {"hospital_id": hospital["customer_id"], "admin_id": admin_id, "clerk_id": clerk_id}


def _new_user(username: str, **fields) -> dict:
    return {"username": username, "password": PASSWORD, "display_name": username.title(), **fields}


def test_the_company_names_its_account_manager(client, world, bank):
    body = client.get(f"{BASE}/{bank['customer_id']}", headers=world.headers("bank-clerk")).get_json()
    assert body["name"] == "徽商银行" and body["enterprise_tier"] == "group"
    assert body["account_manager"]["display_name"] == "Am"
    assert body["users"] == 2 and body["sites"] == 1


def test_the_company_administrator_invites_a_colleague_who_can_log_in(client, world, bank):
    url = f"{BASE}/{bank['customer_id']}/users"
    resp = client.post(url, headers=world.headers("bank-admin"), json=_new_user("bank-teller"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["company_admin"] is False and resp.get_json()["active"] is True
    me = client.get("/api/v1/me", headers=world.headers("bank-teller")).get_json()
    assert me["role"] == "customer" and me["customer_id"] == bank["customer_id"]
    listed = client.get(url, headers=world.headers("bank-teller")).get_json()
    assert [u["username"] for u in listed] == ["bank-admin", "bank-clerk", "bank-teller"]


def test_an_ordinary_colleague_may_not_invite_and_the_company_admin_may_not_name_admins(client, world, bank):
    url = f"{BASE}/{bank['customer_id']}/users"
    clerk = client.post(url, headers=world.headers("bank-clerk"), json=_new_user("x-clerk"))
    assert clerk.status_code == 403
    assert clerk.get_json()["detail"] == "只有系统管理员、客户经理或本企业的管理员可以执行此操作。"
    promoted = client.post(
        url, headers=world.headers("bank-admin"), json=_new_user("x-admin", company_admin=True)
    )
    assert promoted.status_code == 403
    assert promoted.get_json()["detail"] == "只有系统管理员或客户经理可以指定企业管理员。"


def test_the_account_manager_adds_users_and_other_staff_may_not(client, world, bank, db):
    url = f"{BASE}/{bank['customer_id']}/users"
    by_manager = client.post(
        url, headers=world.headers("am"), json=_new_user("bank-boss", company_admin=True)
    )
    assert by_manager.status_code == 201 and by_manager.get_json()["company_admin"] is True
    other = client.post(url, headers=world.headers("other-agent"), json=_new_user("x-other"))
    assert other.status_code == 403
    # the account manager of the bank is no one's for the hospital
    hospital = client.post(
        f"{BASE}/{bank['hospital_id']}/users", headers=world.headers("am"), json=_new_user("x-nurse")
    )
    assert hospital.status_code == 403
    taken = client.post(url, headers=world.headers("root"), json=_new_user("bank-clerk"))
    assert taken.status_code == 409
    assert db.scalar(select(User).where(User.username.like("x-%"))) is None


def test_removing_a_login_deactivates_it_and_ends_its_tokens(client, world, bank, db):
    clerk_headers = world.headers("bank-clerk")
    assert client.get(f"{BASE}/{bank['customer_id']}", headers=clerk_headers).status_code == 200
    url = f"{BASE}/{bank['customer_id']}/users/{bank['clerk_id']}"
    resp = client.delete(url, headers=world.headers("bank-admin"))
    assert resp.status_code == 204
    assert client.get(f"{BASE}/{bank['customer_id']}", headers=clerk_headers).status_code == 401
    login = client.post("/api/v1/auth/token", json={"username": "bank-clerk", "password": PASSWORD})
    assert login.status_code == 401
    assert db.get(User, bank["clerk_id"]).active is False
    live = db.scalars(
        select(ApiToken).where(ApiToken.user_id == bank["clerk_id"], ApiToken.revoked_at.is_(None))
    ).all()
    assert live == []
    listed = client.get(f"{BASE}/{bank['customer_id']}/users", headers=world.headers("bank-admin")).get_json()
    assert {u["username"]: u["active"] for u in listed} == {"bank-admin": True, "bank-clerk": False}


def test_removal_refusals(client, world, bank, db):
    admin = world.headers("bank-admin")
    own = client.delete(f"{BASE}/{bank['customer_id']}/users/{bank['admin_id']}", headers=admin)
    assert own.status_code == 409 and own.get_json()["detail"] == "不能删除自己的账号。"
    nurse_id = db.scalar(select(User.id).where(User.username == "nurse"))
    # another company's user, through the admin's own company: not a user of it
    theirs = client.delete(f"{BASE}/{bank['customer_id']}/users/{nurse_id}", headers=admin)
    assert theirs.status_code == 404 and theirs.get_json()["detail"] == f"未找到用户 {nurse_id}。"
    assert db.get(User, nurse_id).active is True
    clerk = client.delete(
        f"{BASE}/{bank['customer_id']}/users/{bank['admin_id']}", headers=world.headers("bank-clerk")
    )
    assert clerk.status_code == 403


def test_only_an_administrator_sets_the_account_manager(client, world, bank, db):
    url = f"{BASE}/{bank['hospital_id']}"
    other_id = db.scalar(select(User.id).where(User.username == "other-agent"))
    assert (
        client.patch(url, headers=world.headers("am"), json={"account_manager_id": other_id}).status_code
        == 403
    )
    resp = client.patch(url, headers=world.headers("root"), json={"account_manager_id": other_id})
    assert resp.status_code == 200 and resp.get_json()["account_manager"]["id"] == other_id
    # the new account manager may now add the hospital's users
    added = client.post(f"{url}/users", headers=world.headers("other-agent"), json=_new_user("doctor"))
    assert added.status_code == 201
    not_staff = client.patch(
        url, headers=world.headers("root"), json={"account_manager_id": bank["clerk_id"]}
    )
    assert not_staff.status_code == 422
    assert not_staff.get_json()["errors"] == {"account_manager_id": ["客户经理必须是在职的内部员工账号。"]}
    cleared = client.patch(url, headers=world.headers("root"), json={"account_manager_id": None})
    assert cleared.get_json()["account_manager"] is None


def test_a_company_sees_its_sites_and_circuits_and_nobody_elses(client, world, bank):
    world.order(world.headers("root"), bank, kind="repair", product="sdh")
    headers = world.headers("bank-clerk")
    sites = client.get(f"{BASE}/{bank['customer_id']}/sites", headers=headers).get_json()
    assert [s["id"] for s in sites] == [bank["site_id"]]
    circuit = sites[0]["circuits"][0]
    assert (
        circuit["id"] == bank["line_id"]
        and circuit["access_type"] == "lan"
        and circuit["products"] == ["sdh"]
    )
    theirs = client.get(f"{BASE}/{bank['hospital_id']}/sites", headers=headers)
    missing = client.get(f"{BASE}/999999/sites", headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["detail"] == f"未找到企业 {bank['hospital_id']}。"
    # a technician sees no company at all; staff see every one
    world.technician("tech", ["lan"])
    assert client.get(f"{BASE}/{bank['customer_id']}", headers=world.headers("tech")).status_code == 403
    assert (
        client.get(f"{BASE}/{bank['hospital_id']}/sites", headers=world.headers("other-agent")).status_code
        == 200
    )


def test_a_residential_customer_is_no_company(client, world, bank):
    home = world.customer("张伟")
    resp = client.get(f"{BASE}/{home['customer_id']}", headers=world.headers("root"))
    assert resp.status_code == 404
