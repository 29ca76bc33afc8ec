"""A realistic sample of the two demo sources, written to the landing zone.

- ``orders``: one CSV per arrival day, a few thousand orders a day. Some orders arrive one or two
  days late (and land in their own day in bronze), a few arrive too late for the lookback
  window, some are re-sent (exact duplicates, or with a newer status), some are malformed (a
  truncated line, an unreadable amount or timestamp) and some break a quality rule (a negative
  amount, an unknown status). The files carry a ``coupon_code`` column the contract does not
  declare (bronze keeps it in ``_rescued_data``).
- ``customers``: one JSON-lines snapshot of every customer per day; each day some customers
  change segment or city (a new SCD2 version), new customers sign up, a line or two is
  truncated, and from two thirds of the range on, the CRM adds a ``preferred_language`` field.

Everything is derived from the seed and the dates, and file modification times are set to the
delivery time, so generating the same range twice writes identical files.
"""

from __future__ import annotations

import json
import os
import random
from bisect import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path

SEGMENTS = [("consumer", 70), ("small_business", 22), ("enterprise", 8)]
CITIES = [
    ("Madrid", "ES"),
    ("Barcelona", "ES"),
    ("Lisbon", "PT"),
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Milan", "IT"),
    ("Amsterdam", "NL"),
    ("Dublin", "IE"),
]
STATUSES = [("paid", 55), ("shipped", 25), ("placed", 12), ("cancelled", 5), ("refunded", 3)]
CHANNELS = [("web", 60), ("app", 35), ("phone", 5)]
FIRST = ["Ana", "Luis", "Marta", "Jon", "Eva", "Pablo", "Lucia", "Hugo", "Sara", "Iker", "Nora", "Leo"]
LAST = ["Garcia", "Silva", "Martin", "Dubois", "Muller", "Rossi", "Jansen", "Murphy", "Lopez", "Costa"]
ORDER_COLUMNS = [
    "order_id",
    "customer_id",
    "customer_email",
    "status",
    "channel",
    "quantity",
    "amount",
    "currency",
    "ordered_at",
    "coupon_code",
]


@dataclass
class Planted:
    """What the generator put in on purpose, so tests can check the platform found it all."""

    orders_delivered: int = 0  # data rows written to order files, duplicates and bad rows included
    late_orders: int = 0  # delivered 1-2 days after their order day
    too_late_orders: int = 0  # delivered after the lookback window
    duplicate_orders: int = 0
    updated_orders: int = 0  # re-sent with a newer status
    malformed_orders: Counter = field(default_factory=Counter)
    rule_breaking_orders: Counter = field(default_factory=Counter)
    snapshots_delivered: int = 0
    malformed_snapshots: int = 0
    customer_changes: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def quarantined_orders(self) -> int:
        return sum(self.malformed_orders.values()) + self.too_late_orders


class _Weighted:
    """``rng.choices(values, weights)[0]`` with the cumulative weights worked out once: the same
    draw from the same random number (a million orders a day make this the generator's hot
    path)."""

    def __init__(self, options: list[tuple[str, int]]) -> None:
        self.values = [o for o, _ in options]
        self.cumulative = list(accumulate(w for _, w in options))
        self.total = self.cumulative[-1] + 0.0

    def __call__(self, rng: random.Random) -> str:
        return self.values[bisect(self.cumulative, rng.random() * self.total, 0, len(self.values) - 1)]


_segment, _status, _channel = _Weighted(SEGMENTS), _Weighted(STATUSES), _Weighted(CHANNELS)
QUANTITIES = (1, 1, 1, 2, 2, 3, 4, 5)
COUPONS = ("", "", "", "", "WELCOME10", "SPRING5")


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC) + timedelta(seconds=seconds)


def _deliver(path: Path, day: date) -> None:
    """Files are delivered at 23:55 UTC on their arrival day."""
    stamp = _at(day, 23 * 3600 + 55 * 60).timestamp()
    os.utime(path, (stamp, stamp))


@dataclass
class _Customer:
    customer_id: str
    email: str
    full_name: str
    segment: str
    city: str
    country: str
    signup_at: datetime
    updated_at: datetime


def _new_customer(rng: random.Random, number: int, signup_at: datetime) -> _Customer:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, country = rng.choice(CITIES)
    return _Customer(
        customer_id=f"C{number:06d}",
        email=f"{first}.{last}{number}@example.com".lower(),
        full_name=f"{first} {last}",
        segment=_segment(rng),
        city=city,
        country=country,
        signup_at=signup_at,
        updated_at=signup_at,
    )


def generate(
    landing_root: str | Path,
    start: date,
    end: date,
    *,
    orders_per_day: int = 3000,
    seed: int = 7,
    customers_per_order: float = 0.5,
) -> Planted:
    """Write landing files for arrival days ``start..end``; return what was planted."""
    root = Path(landing_root)
    rng = random.Random(f"{seed}:{start}:{orders_per_day}")
    planted = Planted()
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]

    customers = [
        _new_customer(rng, n, _at(start - timedelta(days=400), rng.randrange(300 * 86400)))
        for n in range(1, max(10, int(orders_per_day * customers_per_order)) + 1)
    ]
    # One CSV line per order, not a list of fields: a million orders a day for six days held as
    # lists took more memory than the machine has. No field holds a comma, quote or newline, so
    # joining with commas writes what ``csv.writer`` wrote.
    order_rows: dict[date, list[str]] = {d: [] for d in days}
    snapshot_fields_from = days[len(days) * 2 // 3]

    for day in days:
        _evolve_customers(rng, customers, day, planted)
        _write_snapshot(root, rng, customers, day, planted, with_language=day >= snapshot_fields_from)
        _orders_for_day(rng, customers, day, end, order_rows, planted, orders_per_day)

    for day in days:
        rows = order_rows[day]
        rng.shuffle(rows)
        path = root / "orders" / day.isoformat() / f"orders_{day.isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            handle.write(",".join(ORDER_COLUMNS) + "\n")
            handle.writelines(line + "\n" for line in rows)
        _deliver(path, day)
        planted.orders_delivered += len(rows)
        planted.files.append(str(path.relative_to(root)))
        order_rows[day] = []  # written: free it
    return planted


def _evolve_customers(rng: random.Random, customers: list[_Customer], day: date, planted: Planted) -> None:
    for _ in range(max(1, len(customers) // 100)):  # ~1 % sign up each day
        customers.append(_new_customer(rng, len(customers) + 1, _at(day, rng.randrange(86400 - 3600))))
    existing = [c for c in customers if c.signup_at.date() < day]
    for customer in rng.sample(existing, k=max(1, len(existing) * 15 // 1000)):  # ~1.5 % change
        if rng.random() < 0.6:
            customer.segment = rng.choice([s for s, _ in SEGMENTS if s != customer.segment])
        else:
            customer.city, customer.country = rng.choice([c for c in CITIES if c[0] != customer.city])
        customer.updated_at = _at(day, rng.randrange(86400 - 3600))
        planted.customer_changes += 1


def _write_snapshot(
    root: Path,
    rng: random.Random,
    customers: list[_Customer],
    day: date,
    planted: Planted,
    *,
    with_language: bool,
) -> None:
    snapshot_at = _ts(_at(day, 23 * 3600))
    path = root / "customers" / day.isoformat() / f"customers_{day.isoformat()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    broken = set(rng.sample(range(len(customers)), k=min(2, len(customers))))
    with open(path, "w", encoding="utf-8") as handle:
        for i, c in enumerate(customers):
            record = {
                "customer_id": c.customer_id,
                "email": c.email,
                "full_name": c.full_name,
                "segment": c.segment,
                "city": c.city,
                "country": c.country.lower() if i % 50 == 0 else c.country,
                "signup_at": _ts(c.signup_at),
                "updated_at": _ts(c.updated_at),
                "snapshot_at": snapshot_at,
            }
            if with_language:
                record["preferred_language"] = {"ES": "es", "PT": "pt", "FR": "fr", "DE": "de"}.get(
                    c.country, "en"
                )
            line = json.dumps(record, separators=(",", ":"))
            if i in broken:  # a truncated export line
                line = line[: len(line) // 2]
                planted.malformed_snapshots += 1
            handle.write(line + "\n")
            planted.snapshots_delivered += 1
    _deliver(path, day)
    planted.files.append(str(path.relative_to(root)))


def _orders_for_day(
    rng: random.Random,
    customers: list[_Customer],
    day: date,
    end: date,
    order_rows: dict[date, list],
    planted: Planted,
    orders_per_day: int,
) -> None:
    weekend = day.weekday() >= 5
    count = int(orders_per_day * (1.15 if weekend else 0.95) * rng.uniform(0.9, 1.1))
    eligible = [c for c in customers if c.signup_at.date() <= day]
    day_start = _at(day, 0)
    order_prefix, time_prefix = f"O{day:%Y%m%d}", f"{day.isoformat()}T"
    for n in range(1, count + 1):
        customer = rng.choice(eligible)
        seconds = rng.randrange(86400)
        earliest = customer.signup_at + timedelta(minutes=1)  # whole seconds, UTC
        if earliest > _at(day, seconds):
            seconds = min(int((earliest - day_start).total_seconds()), 86399)  # signed up late that day
        quantity = rng.choice(QUANTITIES)
        cents = rng.randrange(499, 25000) * quantity
        status = _status(rng)
        row = [
            f"{order_prefix}{n:05d}",
            customer.customer_id,
            customer.email,
            status,
            _channel(rng),
            str(quantity),
            f"{cents // 100}.{cents % 100:02d}",
            "EUR",
            f"{time_prefix}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z",
            rng.choice(COUPONS),
        ]

        flaw = None
        roll = rng.random()
        if roll < 0.002:
            row[6] = f"-{row[6]}"
            flaw = ("rule", "negative amount")
        elif roll < 0.004:
            row[3] = "unknown"
            flaw = ("rule", "unknown status")
        elif roll < 0.006:
            row[6] = "N/A"
            flaw = ("malformed", "unreadable amount")
        elif roll < 0.007:
            row[8] = f"{day:%d/%m/%Y} 25:00"
            flaw = ("malformed", "unreadable timestamp")
        elif roll < 0.009:
            row = row[:5]
            flaw = ("malformed", "truncated line")

        delay_roll = rng.random()
        delay = 0
        if delay_roll < 0.002:
            delay = 5  # beyond lookback_days=2: quarantined as late, never silently dropped
        elif delay_roll < 0.03:
            delay = rng.choice([1, 1, 2])
        arrival = day + timedelta(days=delay)
        if arrival > end:
            continue  # not delivered yet
        order_rows[arrival].append(",".join(row))
        if flaw and flaw[0] == "malformed":
            planted.malformed_orders[flaw[1]] += 1
        elif delay == 5:
            planted.too_late_orders += 1
        if flaw and flaw[0] == "rule":
            planted.rule_breaking_orders[flaw[1]] += 1
        if 0 < delay < 5:
            planted.late_orders += 1

        resend = rng.random()
        resend_day = arrival + timedelta(days=1)
        if flaw is None and resend_day <= end and delay != 5:
            if resend < 0.01:
                order_rows[resend_day].append(",".join(row))
                planted.duplicate_orders += 1
            elif resend < 0.015 and row[3] == "placed":
                order_rows[resend_day].append(",".join([*row[:3], "paid", *row[4:]]))
                planted.updated_orders += 1
