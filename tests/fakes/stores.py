"""In-memory fakes of the DynamoDB- and SQS-backed ports: mapping, state, tenant registry, queue."""

from __future__ import annotations

import copy
import threading
from dataclasses import replace
from datetime import date
from typing import Any

from stripe_fortnox_sync.core.errors import ConflictError
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus, TokenState, VoucherRecord
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus, check_tenant_id

Obj = dict[str, Any]


class InMemoryMappingStore:
    """The `MappingStore` port with the table's conditional write: a save must carry the stored
    version. `crash_on_save`: the number (counted in `saves`) of a save that dies before writing."""

    def __init__(self) -> None:
        self.links: dict[str, CustomerLink] = {}
        self.saves = 0
        self.crash_on_save: int | None = None
        self.lookups = 0  # linked_to calls: the index queries the DynamoDB store would make

    def get(self, stripe_id: str) -> CustomerLink | None:
        link = self.links.get(stripe_id)
        return copy.deepcopy(link) if link else None

    def save(self, link: CustomerLink) -> CustomerLink:
        self.saves += 1
        if self.saves == self.crash_on_save:
            raise RuntimeError("simulated crash before the mapping write")
        stored = self.links.get(link.stripe_id)
        if (stored.version if stored else 0) != link.version:
            raise ConflictError(link.stripe_id)
        link.version += 1
        self.links[link.stripe_id] = copy.deepcopy(link)
        return link

    def linked_to(self, fortnox_number: str) -> list[str]:
        self.lookups += 1
        return sorted(
            key
            for key, link in self.links.items()
            if link.fortnox_number == fortnox_number and link.status is LinkStatus.ACTIVE
        )


class InMemoryStateStore:
    """TokenStore, SlotStore and VoucherRecords in one, like the DynamoDB state table.
    `lose_next_slot_race`: the next slot write finds another worker's write first, as a lost
    conditional write would; `crash_on_voucher_save`: the number of a voucher record write that dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[str, TokenState] = {}
        self.locks: dict[str, str] = {}
        self.slots: dict[str, tuple[list[float], int]] = {}
        self.slot_writes = 0
        self.lose_next_slot_race = False
        self.vouchers: dict[str, VoucherRecord] = {}
        self.voucher_saves = 0
        # The number (counted in `voucher_saves`) of a voucher record write that dies first.
        self.crash_on_voucher_save: int | None = None
        # Summary booking: entries by day, sales and refunds by id, each day's booked vouchers.
        self.day_sales: dict[date, dict[str, str]] = {}
        self.sales: dict[str, str] = {}
        self.booked_days: dict[date, str] = {}

    def load_token(self, key: str) -> TokenState | None:
        with self._lock:
            return self.tokens.get(key)

    def save_token(self, key: str, state: TokenState) -> bool:
        with self._lock:
            current = self.tokens.get(key)
            if (current.version if current else 0) != state.version - 1:
                return False
            self.tokens[key] = replace(state)
            return True

    def try_lock(self, key: str, owner: str, ttl_seconds: float) -> bool:
        with self._lock:
            if self.locks.get(key, owner) != owner:
                return False
            self.locks[key] = owner
            return True

    def unlock(self, key: str, owner: str) -> None:
        with self._lock:
            if self.locks.get(key) == owner:
                del self.locks[key]

    def load_voucher(self, key: str) -> VoucherRecord | None:
        with self._lock:
            found = self.vouchers.get(key)
            return replace(found) if found else None

    def save_voucher(self, record: VoucherRecord) -> None:
        with self._lock:
            self.voucher_saves += 1
            if self.voucher_saves == self.crash_on_voucher_save:
                raise RuntimeError("simulated crash before the voucher record write")
            self.vouchers[record.key] = replace(record)

    # DaySales (summary booking)
    def add_entry(self, day: date, entry_id: str, entry: str) -> None:
        with self._lock:
            self.day_sales.setdefault(day, {})[entry_id] = entry

    def day_entries(self, day: date) -> dict[str, str]:
        with self._lock:
            return dict(self.day_sales.get(day, {}))

    def save_sale(self, sale_id: str, entry: str) -> None:
        with self._lock:
            self.sales[sale_id] = entry

    def load_sale(self, sale_id: str) -> str | None:
        with self._lock:
            return self.sales.get(sale_id)

    def load_booked(self, day: date) -> str | None:
        with self._lock:
            return self.booked_days.get(day)

    def save_booked(self, day: date, booked: str) -> None:
        with self._lock:
            self.booked_days[day] = booked

    def swap_slots(
        self, key: str, slots: list[float], expected_version: int
    ) -> tuple[list[float], int] | None:
        with self._lock:
            self.slot_writes += 1
            stored, version = self.slots.get(key, ([], 0))
            if self.lose_next_slot_race:
                # Another worker's write lands first: the refusal carries what it stored.
                self.lose_next_slot_race = False
                self.slots[key] = (stored, version + 1)
                return list(stored), version + 1
            if version != expected_version:
                return list(stored), version
            self.slots[key] = (list(slots), expected_version + 1)
            return None


class InMemoryTenantRegistry:
    """The `TenantRegistry` port: tenants by id, with the slug and Stripe account lookups; `add`
    refuses a taken id, slug or account as the registry's transaction does."""

    def __init__(self, *tenants: Tenant) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.reads = 0
        for tenant in tenants:
            self.add(tenant)

    def get(self, tenant_id: str) -> Tenant | None:
        self.reads += 1
        return self.tenants.get(tenant_id)

    def by_slug(self, slug: str) -> Tenant | None:
        self.reads += 1
        return next((t for t in self.tenants.values() if slug and t.webhook_slug == slug), None)

    def by_account(self, stripe_account: str) -> Tenant | None:
        self.reads += 1
        return next(
            (t for t in self.tenants.values() if stripe_account and t.stripe_account == stripe_account), None
        )

    def add(self, tenant: Tenant) -> Tenant:
        check_tenant_id(tenant.id)
        taken = any(
            t.id == tenant.id
            or (tenant.webhook_slug and t.webhook_slug == tenant.webhook_slug)
            or (tenant.stripe_account and t.stripe_account == tenant.stripe_account)
            for t in self.tenants.values()
        )
        if taken:
            raise ConflictError(
                f"tenant {tenant.id}: the id, webhook slug or Stripe account is already taken"
            )
        stored = replace(tenant, version=1)
        self.tenants[tenant.id] = stored
        return stored

    def set_status(self, tenant_id: str, status: TenantStatus) -> Tenant | None:
        current = self.tenants.get(tenant_id)
        if current is None or current.status is status:
            return current
        self.tenants[tenant_id] = replace(current, status=status, version=current.version + 1)
        return self.tenants[tenant_id]

    def save(self, tenant: Tenant) -> Tenant:
        if self.tenants[tenant.id].version != tenant.version:
            raise ConflictError(f"tenant {tenant.id} changed concurrently")
        self.tenants[tenant.id] = replace(tenant, version=tenant.version + 1)
        return self.tenants[tenant.id]

    def all(self) -> list[Tenant]:
        return sorted(self.tenants.values(), key=lambda t: t.id)


class FakeQueue:
    """The `EventPublisher` port: an SQS FIFO queue (the event queue, or the dead-letter queue the
    sync parks events in) that keeps what was published in `sent`, refuses what SQS would refuse (a
    message group id outside 1-128 printable ASCII characters, a body that is no UTF-8), and with
    `down=True` fails like an unreachable SQS."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[Obj] = []

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        if self.down:
            raise RuntimeError("SQS is down")
        if not (1 <= len(group_id) <= 128 and all("!" <= c <= "~" for c in group_id)):
            raise ValueError(f"SQS refuses the message group id {group_id!r}")
        body.encode("utf-8")
        self.sent.append({"body": body, "group": group_id, "dedup": dedup_id, "attributes": attributes or {}})
