"""Merge-back schedules: cron expressions of 5 fields (minute hour day-of-month month day-of-week)
and @macros, in UTC, with errors that name the field and what it allows.

Not a library, measured: for `99 * * * *` croniter 7.0.0 says "[99 * * * *] is not acceptable, out of
range" and cronsim 2.9 "Bad minute"; for `* * 30 2 *` "failed to find next date" and "Bad
day-of-month". Here: "minute field '99': 99 is out of range 0-59" and "has no tick within 8 years",
the message a user of `spec.mergeBack.trigger.schedule` needs in the policy's status. This
module is the only place that parses a schedule."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


CRON_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS),
           ("day of week", 0, 7, _DAYS))
CRON_HORIZON_YEARS = 8
"""A schedule with no tick within this many years (e.g. 30 February) is refused."""


class CronError(ValueError):
    """A schedule that cannot be parsed or never fires (the message names the part)."""


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday .. 6 = Saturday (7 is folded onto 0)"""
    any_day: bool
    any_weekday: bool

    def day_matches(self, t: datetime) -> bool:
        dom = t.day in self.days
        dow = (t.weekday() + 1) % 7 in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return dow
        if self.any_weekday:
            return dom
        return dom or dow  # both restricted: either matches (as cron does)

    def matches(self, t: datetime) -> bool:
        return (t.minute in self.minutes and t.hour in self.hours and t.month in self.months
                and self.day_matches(t))

    def next_after(self, t: datetime) -> datetime:
        """The first tick strictly after `t` (UTC, whole minutes)."""
        t = t.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t.year + CRON_HORIZON_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self.day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise CronError(f"schedule {self.expression!r} has no tick within {CRON_HORIZON_YEARS} years")


def _cron_field(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    def value(tok: str) -> int:
        tok_l = tok.lower()
        if tok_l in names:
            return names[tok_l]
        if not tok.isdigit():
            allowed = f"{lo}-{hi}" + (f" or names ({', '.join(names)})" if names else "")
            raise CronError(f"{name} field {text!r}: {tok!r} is not a number (allowed: {allowed})")
        v = int(tok)
        if not lo <= v <= hi:
            raise CronError(f"{name} field {text!r}: {v} is out of range {lo}-{hi}")
        return v

    out: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise CronError(f"{name} field {text!r}: empty list item")
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) < 1:
                raise CronError(f"{name} field {text!r}: step {step_s!r} must be a positive number")
            step = int(step_s)
        if rng in ("*", "?"):
            start, end = lo, hi
            star = star or not step_s
        elif "-" in rng:
            a, _, b = rng.partition("-")
            start, end = value(a), value(b)
            if start > end:
                raise CronError(f"{name} field {text!r}: range {rng!r} runs backwards")
        else:
            start = value(rng)
            end = hi if step_s else start
        out.update(range(start, end + 1, step))
    return frozenset(out), star


@functools.lru_cache(maxsize=256)
def parse_cron(expression: str) -> Cron:
    """A cron expression (5 fields, `*`, lists, ranges, steps, month/day names) or a macro
    (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly). Times are UTC."""
    expr = expression.strip()
    text = CRON_MACROS.get(expr.lower(), expr)
    if text.startswith("@"):
        raise CronError(f"schedule {expression!r}: unknown macro (known: {', '.join(CRON_MACROS)})")
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"schedule {expression!r}: expected 5 fields (minute hour day-of-month month day-of-week), "
                        f"got {len(parts)}")
    fields = [_cron_field(p, *f) for p, f in zip(parts, _FIELDS)]
    weekdays = frozenset(d % 7 for d in fields[4][0])
    cron = Cron(expr, fields[0][0], fields[1][0], fields[2][0], fields[3][0], weekdays,
                any_day=fields[2][1], any_weekday=fields[4][1])
    cron.next_after(datetime(2000, 1, 1, tzinfo=timezone.utc))  # refuses a schedule that never fires
    return cron


def schedule_due(expression: str, since: datetime, now: datetime) -> tuple[bool, datetime]:
    """(a tick fell in (since, now], the first tick after `since`)."""
    nxt = parse_cron(expression).next_after(since)
    return nxt <= now, nxt
