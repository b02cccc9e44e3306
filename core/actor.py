"""Who is acting: passed from views into services so services stay free of Flask."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    origin: str | None = None  # IP address, "cli", "job", ...
    customer_id: int | None = None
    technician_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("dispatcher", "manager", "agent", "admin")


SYSTEM = Actor(user_id=None, username="system", role="system", origin="system")
