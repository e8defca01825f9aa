"""The agenda: contacts and a one-week calendar whose events may not overlap.

Events live on the five working days of one fixed week (no wall clock, so tasks replay
exactly). Cancelling marks an event ``cancelled`` rather than deleting it, so ids never get
reused and the order of independent calls does not change the final state. Attendee lists are
kept sorted for the same reason. Domain errors: unknown ids or attendees, malformed dates or
times, and overlaps with another confirmed event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from turngym.tasks.toolworlds.scenario import Predicate, Scenario, ask, call
from turngym.tasks.toolworlds.world import ToolWorld, email_of, next_id, people, pick, require
from turngym.tools import ToolError

DAYS = ("2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13", "2025-03-14")
TITLES = (
    "Design review",
    "Budget sync",
    "1:1",
    "Hiring panel",
    "Roadmap planning",
    "Customer call",
    "Team standup",
    "Retro",
    "Security audit",
    "Vendor demo",
)
NEW_TITLES = ("Project kickoff", "Coffee chat", "Quarterly review", "Offsite planning", "Launch prep")
DAY_START, DAY_END = 8 * 60, 20 * 60  # events must fit in 08:00-20:00
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def to_minutes(hhmm: str) -> int:
    match = _TIME_RE.match(hhmm)
    if not match:
        raise ToolError(f"Time {hhmm!r} is not in 24-hour HH:MM format.")
    return int(match.group(1)) * 60 + int(match.group(2))


def to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class Contact:
    id: str
    name: str
    email: str
    phone: str


@dataclass
class Event:
    id: str
    title: str
    date: str
    start: str
    end: str
    attendees: list[str]
    status: str = "confirmed"  # confirmed | cancelled


@dataclass
class AgendaWorld(ToolWorld):
    name: ClassVar[str] = "agenda"
    tool_methods: ClassVar[tuple[str, ...]] = (
        "find_contact",
        "update_contact_phone",
        "list_events",
        "get_event",
        "create_event",
        "cancel_event",
        "add_attendee",
    )

    contacts: dict[str, Contact] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)

    @classmethod
    def generate(cls, rng: np.random.Generator) -> AgendaWorld:
        world = cls()
        for i, (first, last) in enumerate(people(rng, 6)):
            phone = f"+1-555-{int(rng.integers(1000, 10000))}"
            contact = Contact(f"CT-{i + 1:02d}", f"{first} {last}", email_of(first, last, "corp.example"), phone)
            world.contacts[contact.id] = contact
        emails = [c.email for c in world.contacts.values()]
        for day in DAYS:
            titles = pick(rng, TITLES, 3)
            for title in titles[: int(rng.integers(1, 4))]:
                duration = int(pick(rng, (30, 60, 90)))
                start = 9 * 60 + 30 * int(rng.integers(0, 16))
                if start + duration > 18 * 60 or world.conflict(day, start, start + duration):
                    continue
                attendees = sorted(pick(rng, emails, int(rng.integers(1, 4))))
                event_id = next_id("EV-", world.events)
                world.events[event_id] = Event(
                    event_id, title, day, to_hhmm(start), to_hhmm(start + duration), attendees
                )
        return world

    # -- tools -----------------------------------------------------------------------------

    def find_contact(self, name: str) -> list[dict[str, Any]]:
        """Find contacts whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial contact name.
        """
        needle = name.strip().lower()
        return [
            {"contact_id": c.id, "name": c.name, "email": c.email, "phone": c.phone}
            for c in self.contacts.values()
            if needle and needle in c.name.lower()
        ]

    def update_contact_phone(self, contact_id: str, phone: str) -> dict[str, Any]:
        """Change a contact's phone number.

        Args:
            contact_id: The contact id, e.g. "CT-01".
            phone: The new phone number.
        """
        contact = require(self.contacts, contact_id, "contact")
        if not phone.strip():
            raise ToolError("The phone number must not be empty.")
        contact.phone = phone.strip()
        return {"contact_id": contact_id, "phone": contact.phone}

    def list_events(self, date: str) -> list[dict[str, Any]]:
        """List the confirmed events on one day, earliest first.

        Args:
            date: The day as YYYY-MM-DD.
        """
        self._check_date(date)
        day = sorted(
            (e for e in self.events.values() if e.date == date and e.status == "confirmed"), key=lambda e: e.start
        )
        return [self._view(e) for e in day]

    def get_event(self, event_id: str) -> dict[str, Any]:
        """Get one event's details.

        Args:
            event_id: The event id, e.g. "EV-001".
        """
        event = require(self.events, event_id, "event")
        return {**self._view(event), "status": event.status}

    def create_event(
        self, title: str, date: str, start_time: str, duration_minutes: int, attendee_emails: list[str]
    ) -> dict[str, Any]:
        """Create an event; it may not overlap another confirmed event that day.

        Args:
            title: The event title.
            date: The day as YYYY-MM-DD.
            start_time: Start time as HH:MM (24-hour).
            duration_minutes: Length in minutes, a multiple of 15.
            attendee_emails: Email addresses of the contacts to invite (may be empty).
        """
        self._check_date(date)
        start = to_minutes(start_time)
        if duration_minutes <= 0 or duration_minutes % 15:
            raise ToolError(f"duration_minutes must be a positive multiple of 15, got {duration_minutes}.")
        end = start + duration_minutes
        if start < DAY_START or end > DAY_END:
            raise ToolError(f"Events must fit between {to_hhmm(DAY_START)} and {to_hhmm(DAY_END)}.")
        if not title.strip():
            raise ToolError("The title must not be empty.")
        known = {c.email for c in self.contacts.values()}
        unknown = [e for e in attendee_emails if e not in known]
        if unknown:
            raise ToolError(f"No contact with email {unknown[0]!r}.")
        clash = self.conflict(date, start, end)
        if clash:
            raise ToolError(f"The slot conflicts with {clash.id} '{clash.title}' ({clash.start}-{clash.end}).")
        event_id = next_id("EV-", self.events)
        event = Event(event_id, title.strip(), date, to_hhmm(start), to_hhmm(end), sorted(set(attendee_emails)))
        self.events[event_id] = event
        return self._view(event)

    def cancel_event(self, event_id: str) -> dict[str, Any]:
        """Cancel an event.

        Args:
            event_id: The event to cancel.
        """
        event = require(self.events, event_id, "event")
        if event.status == "cancelled":
            raise ToolError(f"Event {event_id} is already cancelled.")
        event.status = "cancelled"
        return {"event_id": event_id, "status": "cancelled"}

    def add_attendee(self, event_id: str, email: str) -> dict[str, Any]:
        """Invite one more contact to an event.

        Args:
            event_id: The event id.
            email: The contact's email address.
        """
        event = require(self.events, event_id, "event")
        if event.status == "cancelled":
            raise ToolError(f"Event {event_id} is cancelled.")
        if email not in {c.email for c in self.contacts.values()}:
            raise ToolError(f"No contact with email {email!r}.")
        if email in event.attendees:
            raise ToolError(f"{email} is already invited to {event_id}.")
        event.attendees = sorted([*event.attendees, email])
        return self._view(event)

    # -- helpers ---------------------------------------------------------------------------

    def conflict(self, date: str, start: int, end: int, ignore: str | None = None) -> Event | None:
        """The first confirmed event that day overlapping [start, end), if any."""
        for e in self.events.values():
            if e.date == date and e.status == "confirmed" and e.id != ignore:
                if start < to_minutes(e.end) and to_minutes(e.start) < end:
                    return e
        return None

    @staticmethod
    def _check_date(date: str) -> None:
        if date not in DAYS:
            raise ToolError(f"Date {date!r} is outside the calendar; use YYYY-MM-DD between {DAYS[0]} and {DAYS[-1]}.")

    @staticmethod
    def _view(e: Event) -> dict[str, Any]:
        return {
            "event_id": e.id,
            "title": e.title,
            "date": e.date,
            "start": e.start,
            "end": e.end,
            "attendees": list(e.attendees),
        }

    def free_slots(self, date: str, duration: int, earliest: int = 9 * 60, latest_end: int = 17 * 60) -> list[int]:
        return [s for s in range(earliest, latest_end - duration + 1, 30) if not self.conflict(date, s, s + duration)]

    def busy_slots(self, date: str, duration: int) -> list[int]:
        return [s for s in range(9 * 60, 17 * 60 - duration + 1, 30) if self.conflict(date, s, s + duration)]


# ---------------------------------------------------------------------------------------------
# Task templates


def _create(title: str, date: str, start: int, duration: int, attendees: list[str]) -> dict[str, Any]:
    """The gold create_event call (attendees sorted, as the world stores them)."""
    return call(
        "create_event",
        title=title,
        date=date,
        start_time=to_hhmm(start),
        duration_minutes=duration,
        attendee_emails=sorted(attendees),
    )


def _new_event(w: AgendaWorld, title: str, date: str, start: int, duration: int, attendees: list[str]) -> Predicate:
    event_id = next_id("EV-", w.events)
    expected = {
        "id": event_id,
        "title": title,
        "date": date,
        "start": to_hhmm(start),
        "end": to_hhmm(start + duration),
        "attendees": sorted(attendees),
        "status": "confirmed",
    }
    return Predicate(
        f"{event_id} is '{title}' on {date} at {to_hhmm(start)}", ("agenda", "events", event_id), "eq", expected
    )


def _status(event: Event, status: str) -> Predicate:
    return Predicate(f"{event.id} is {status}", ("agenda", "events", event.id, "status"), "eq", status)


def _confirmed(w: AgendaWorld) -> list[Event]:
    return [e for e in w.events.values() if e.status == "confirmed"]


def _slot(w: AgendaWorld, rng: np.random.Generator, duration: int, free: bool) -> tuple[str, int] | None:
    options = [(d, s) for d in DAYS for s in (w.free_slots(d, duration) if free else w.busy_slots(d, duration))]
    return pick(rng, options) if options else None


def cancel_by_id(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    events = _confirmed(w)
    if not events:
        return None
    event = pick(rng, events)
    return Scenario(
        f"Cancel event {event.id}.", [[call("cancel_event", event_id=event.id)]], [_status(event, "cancelled")]
    )


def phone_lookup(w: AgendaWorld, rng: np.random.Generator) -> Scenario:
    contact = pick(rng, list(w.contacts.values()))
    return Scenario(
        f"What is {contact.name}'s phone number?",
        [[call("find_contact", name=contact.name)]],
        answer=[contact.phone],
    )


def book_busy_slot(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    found = _slot(w, rng, 60, free=False)
    if not found:
        return None
    date, start = found
    title = pick(rng, NEW_TITLES)
    return Scenario(
        f"Book a 60-minute '{title}' on {date} at {to_hhmm(start)}, no attendees.",
        [[call("list_events", date=date)]],
        [Predicate("no new event", ("agenda", "events", next_id("EV-", w.events)), "absent")],
        expect_impossible=True,
        blocked_calls=[_create(title, date, start, 60, [])],
    )


def schedule_with_contact(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    found = _slot(w, rng, 30, free=True)
    if not found:
        return None
    date, start = found
    contact, title = pick(rng, list(w.contacts.values())), pick(rng, NEW_TITLES)
    return Scenario(
        f"Schedule a 30-minute '{title}' with {contact.name} on {date} at {to_hhmm(start)}.",
        [
            [call("find_contact", name=contact.name)],
            [_create(title, date, start, 30, [contact.email])],
        ],
        [_new_event(w, title, date, start, 30, [contact.email])],
    )


def invite_two(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    options = []
    for e in _confirmed(w):
        outsiders = [c for c in w.contacts.values() if c.email not in e.attendees]
        if len(outsiders) >= 2:
            options.append((e, outsiders))
    if not options:
        return None
    event, outsiders = pick(rng, options)
    a, b = pick(rng, outsiders, 2)
    return Scenario(
        f"Add {a.name} and {b.name} to event {event.id}.",
        [
            [call("find_contact", name=a.name), call("find_contact", name=b.name)],
            [
                call("add_attendee", event_id=event.id, email=a.email),
                call("add_attendee", event_id=event.id, email=b.email),
            ],
        ],
        [
            Predicate(f"{c.name} invited", ("agenda", "events", event.id, "attendees"), "contains", c.email)
            for c in (a, b)
        ],
    )


def clarify_time(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    found = _slot(w, rng, 45, free=True)
    if not found:
        return None
    date, start = found
    contact, title = pick(rng, list(w.contacts.values())), pick(rng, NEW_TITLES)
    return Scenario(
        f"Set up a '{title}' with {contact.name} on {date}.",
        [
            [ask("What time should it start and how long should it be?"), call("find_contact", name=contact.name)],
            [_create(title, date, start, 45, [contact.email])],
        ],
        [_new_event(w, title, date, start, 45, [contact.email])],
        clarification=f"Start at {to_hhmm(start)} and make it 45 minutes.",
    )


def busy_with_contact(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    found = _slot(w, rng, 60, free=False)
    if not found:
        return None
    date, start = found
    contact, title = pick(rng, list(w.contacts.values())), pick(rng, NEW_TITLES)
    return Scenario(
        f"Schedule a 60-minute '{title}' with {contact.name} on {date} at {to_hhmm(start)}.",
        [[call("find_contact", name=contact.name), call("list_events", date=date)]],
        [Predicate("no new event", ("agenda", "events", next_id("EV-", w.events)), "absent")],
        expect_impossible=True,
        blocked_calls=[_create(title, date, start, 60, [contact.email])],
    )


def update_phone(w: AgendaWorld, rng: np.random.Generator) -> Scenario:
    contact = pick(rng, list(w.contacts.values()))
    phone = f"+1-555-{int(rng.integers(1000, 10000))}"
    return Scenario(
        f"{contact.name} has a new phone number: {phone}. Update their contact.",
        [[call("find_contact", name=contact.name)], [call("update_contact_phone", contact_id=contact.id, phone=phone)]],
        [Predicate(f"{contact.id} phone is {phone}", ("agenda", "contacts", contact.id, "phone"), "eq", phone)],
    )


def _unique_titled(w: AgendaWorld) -> list[Event]:
    """Confirmed events whose title is unique on their day (so the title identifies them)."""
    events = _confirmed(w)
    return [e for e in events if sum(x.title == e.title and x.date == e.date for x in events) == 1]


def reschedule_and_invite(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    options = []
    for e in _unique_titled(w):
        duration = to_minutes(e.end) - to_minutes(e.start)
        free = [
            s
            for s in range(9 * 60, 17 * 60 - duration + 1, 30)
            if s != to_minutes(e.start) and not w.conflict(e.date, s, s + duration, ignore=e.id)
        ]
        outsiders = [c for c in w.contacts.values() if c.email not in e.attendees]
        if free and outsiders:
            options.append((e, duration, free, outsiders))
    if not options:
        return None
    event, duration, free, outsiders = pick(rng, options)
    start, guest = pick(rng, free), pick(rng, outsiders)
    attendees = sorted([*event.attendees, guest.email])
    return Scenario(
        f"Move my '{event.title}' on {event.date} to {to_hhmm(start)} (same length, same attendees) "
        f"and invite {guest.name} as well.",
        [
            [call("list_events", date=event.date), call("find_contact", name=guest.name)],
            [call("cancel_event", event_id=event.id)],
            [_create(event.title, event.date, start, duration, attendees)],
        ],
        [_status(event, "cancelled"), _new_event(w, event.title, event.date, start, duration, attendees)],
    )


def team_meeting(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    date = pick(rng, DAYS)
    free = w.free_slots(date, 60)
    if not free:
        return None
    guests, title = pick(rng, list(w.contacts.values()), 3), pick(rng, NEW_TITLES)
    emails = sorted(g.email for g in guests)
    return Scenario(
        f"Schedule a one-hour '{title}' on {date} with {guests[0].name}, {guests[1].name} and "
        f"{guests[2].name}, at the earliest half-hour slot (:00 or :30) between 09:00 and 17:00 "
        "that does not overlap any existing event.",
        [
            [*(call("find_contact", name=g.name) for g in guests), call("list_events", date=date)],
            [_create(title, date, free[0], 60, emails)],
        ],
        [_new_event(w, title, date, free[0], 60, emails)],
    )


def clarify_two(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    found = _slot(w, rng, 30, free=True)
    if not found:
        return None
    date, start = found
    (a, b), title = pick(rng, list(w.contacts.values()), 2), pick(rng, NEW_TITLES)
    emails = sorted([a.email, b.email])
    return Scenario(
        f"Set up a 30-minute '{title}' with {a.name} and {b.name} on {date}.",
        [
            [ask("What time should it start?"), call("find_contact", name=a.name), call("find_contact", name=b.name)],
            [_create(title, date, start, 30, emails)],
        ],
        [_new_event(w, title, date, start, 30, emails)],
        clarification=f"Let's start at {to_hhmm(start)}.",
    )


def reschedule_into_conflict(w: AgendaWorld, rng: np.random.Generator) -> Scenario | None:
    options = []
    for e in _unique_titled(w):
        duration = to_minutes(e.end) - to_minutes(e.start)
        busy = [
            s for s in range(9 * 60, 17 * 60 - duration + 1, 30) if w.conflict(e.date, s, s + duration, ignore=e.id)
        ]
        if busy:
            options.append((e, duration, busy))
    if not options:
        return None
    event, duration, busy = pick(rng, options)
    start = pick(rng, busy)
    return Scenario(
        f"Move my '{event.title}' on {event.date} to {to_hhmm(start)}, keeping its length and attendees.",
        [[call("list_events", date=event.date)]],
        [
            _status(event, "confirmed"),
            Predicate("no new event", ("agenda", "events", next_id("EV-", w.events)), "absent"),
        ],
        expect_impossible=True,
        blocked_calls=[_create(event.title, event.date, start, duration, event.attendees)],
    )


SCENARIOS: dict[str, list[Callable[[AgendaWorld, np.random.Generator], Scenario | None]]] = {
    "easy": [cancel_by_id, phone_lookup, book_busy_slot],
    "medium": [schedule_with_contact, invite_two, clarify_time, busy_with_contact, update_phone],
    "hard": [reschedule_and_invite, team_meeting, clarify_two, reschedule_into_conflict],
}
