"""The workspace: a small in-memory file tree and a notes app.

Files are a flat ``{absolute path: text}`` map (directories are implied by paths). Notes have a
title, a body and tags; deleting a note moves it to the trash (a flag), so note ids are never
reused and the order of independent calls does not change the final state. Domain errors:
missing files or notes, relative paths, moving onto an existing file.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from turngym.tasks.toolworlds.scenario import Predicate, Scenario, ask, call
from turngym.tasks.toolworlds.world import ToolWorld, next_id, pick, require
from turngym.tools import ToolError

QUARTERS = ("q1", "q2", "q3", "q4")
NOTE_TITLES = (
    "Groceries",
    "Trip ideas",
    "Book list",
    "Meeting prep",
    "Gift ideas",
    "Garden plan",
    "Recipes to try",
    "Car service",
    "Tax documents",
    "Podcast notes",
)
TAGS = ("todo", "personal", "work", "urgent", "later")
WORDS = ("alpha", "harbor", "maple", "quartz", "sierra", "tundra", "violet", "willow", "zephyr")


@dataclass
class Note:
    id: str
    title: str
    body: str
    tags: list[str]
    trashed: bool = False


@dataclass
class WorkspaceWorld(ToolWorld):
    name: ClassVar[str] = "workspace"
    tool_methods: ClassVar[tuple[str, ...]] = (
        "list_files",
        "read_file",
        "write_file",
        "move_file",
        "delete_file",
        "search_notes",
        "create_note",
        "add_tag",
        "delete_note",
    )

    files: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Note] = field(default_factory=dict)

    @classmethod
    def generate(cls, rng: np.random.Generator) -> WorkspaceWorld:
        world = cls()
        quarters = QUARTERS[: int(rng.integers(2, 5))]
        for q in quarters:
            revenue = int(rng.integers(10_000, 99_999))
            world.files[f"/reports/{q}_summary.txt"] = f"Quarter: {q.upper()}\nRevenue: {revenue}"
        for day in sorted(pick(rng, range(1, 29), int(rng.integers(2, 4)))):
            world.files[f"/logs/app-2025-02-{day:02d}.log"] = f"INFO started\nWARN {pick(rng, WORDS)} slow"
        world.files["/logs/README.txt"] = "Application logs, one file per day."
        for name in pick(rng, WORDS, 3):
            world.files[f"/docs/{name}.md"] = f"# {name.title()}\nDraft by the {pick(rng, WORDS)} team."
        world.files[f"/archive/old_{pick(rng, WORDS)}.txt"] = "archived"
        for title in pick(rng, NOTE_TITLES, int(rng.integers(4, 7))):
            note_id = next_id("N-", world.notes, start=1)
            tags = sorted(pick(rng, TAGS, int(rng.integers(1, 3))))
            world.notes[note_id] = Note(note_id, title, f"{title}: {' '.join(pick(rng, WORDS, 3))}", tags)
        world.files = dict(sorted(world.files.items()))
        return world

    # -- tools -----------------------------------------------------------------------------

    def list_files(self, directory: str) -> list[str]:
        """List the files directly inside a directory, sorted by path.

        Args:
            directory: An absolute directory path, e.g. "/reports".
        """
        folder = _absolute(directory).rstrip("/") or "/"
        return sorted(p for p in self.files if posixpath.dirname(p) == folder)

    def read_file(self, path: str) -> str:
        """Read a file's text.

        Args:
            path: The file's absolute path.
        """
        return require(self.files, _absolute(path), "file")

    def write_file(self, path: str, content: str) -> dict[str, Any]:
        """Create a file, or overwrite it if it exists.

        Args:
            path: The file's absolute path.
            content: The full text to write.
        """
        path = _absolute(path)
        if path.endswith("/"):
            raise ToolError(f"{path!r} is a directory path, not a file path.")
        existed = path in self.files
        self.files[path] = content
        return {"path": path, "bytes": len(content.encode()), "overwritten": existed}

    def move_file(self, source: str, destination: str) -> dict[str, Any]:
        """Move or rename a file; refuses to overwrite an existing file.

        Args:
            source: The file's current absolute path.
            destination: The new absolute file path (not just a directory).
        """
        source, destination = _absolute(source), _absolute(destination)
        content = require(self.files, source, "file")
        if destination in self.files:
            raise ToolError(f"{destination} already exists; delete it first or choose another name.")
        if destination.endswith("/"):
            raise ToolError(
                f"destination {destination!r} must be a file path, e.g. {destination}{posixpath.basename(source)}."
            )
        del self.files[source]
        self.files[destination] = content
        return {"moved": source, "to": destination}

    def delete_file(self, path: str) -> dict[str, Any]:
        """Delete a file.

        Args:
            path: The file's absolute path.
        """
        path = _absolute(path)
        require(self.files, path, "file")
        del self.files[path]
        return {"deleted": path}

    def search_notes(self, query: str) -> list[dict[str, Any]]:
        """Find notes whose title, body or a tag contains the text (case-insensitive), oldest first.

        Args:
            query: Text to look for.
        """
        needle = query.strip().lower()
        return [
            {"note_id": n.id, "title": n.title, "tags": list(n.tags), "body": n.body}
            for n in self.notes.values()
            if not n.trashed
            and needle
            and (needle in n.title.lower() or needle in n.body.lower() or any(needle in t for t in n.tags))
        ]

    def create_note(self, title: str, body: str, tags: list[str] | None = None) -> dict[str, Any]:
        """Create a note.

        Args:
            title: The note title.
            body: The note text.
            tags: Optional tags (lowercase words).
        """
        if not title.strip():
            raise ToolError("The title must not be empty.")
        note_id = next_id("N-", self.notes, start=1)
        self.notes[note_id] = Note(note_id, title.strip(), body, sorted(set(tags or [])))
        return {"note_id": note_id}

    def add_tag(self, note_id: str, tag: str) -> dict[str, Any]:
        """Add a tag to a note.

        Args:
            note_id: The note id, e.g. "N-01".
            tag: The tag to add.
        """
        note = self._note(note_id)
        if tag in note.tags:
            raise ToolError(f"Note {note_id} already has the tag {tag!r}.")
        note.tags = sorted([*note.tags, tag])
        return {"note_id": note_id, "tags": list(note.tags)}

    def delete_note(self, note_id: str) -> dict[str, Any]:
        """Move a note to the trash.

        Args:
            note_id: The note to delete.
        """
        self._note(note_id).trashed = True
        return {"note_id": note_id, "deleted": True}

    def _note(self, note_id: str) -> Note:
        note = require(self.notes, note_id, "note")
        if note.trashed:
            raise ToolError(f"Note {note_id} is in the trash.")
        return note

    def live_notes(self) -> list[Note]:
        return [n for n in self.notes.values() if not n.trashed]


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ToolError(f"Paths must be absolute (start with '/'), got {path!r}.")
    return posixpath.normpath(path) + ("/" if path.endswith("/") and path != "/" else "")


# ---------------------------------------------------------------------------------------------
# Task templates


def _file(path: str, content: str | None) -> Predicate:
    if content is None:
        return Predicate(f"{path} is gone", ("workspace", "files", path), "absent")
    return Predicate(f"{path} has the expected content", ("workspace", "files", path), "eq", content)


def _files_in(w: WorkspaceWorld, folder: str, suffix: str = "") -> list[str]:
    return [p for p in w.files if posixpath.dirname(p) == folder and p.endswith(suffix)]


def delete_by_path(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    path = pick(rng, list(w.files))
    return Scenario(f"Delete the file {path}.", [[call("delete_file", path=path)]], [_file(path, None)])


def read_revenue(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    path = pick(rng, _files_in(w, "/reports"))
    revenue = w.files[path].split("Revenue: ")[1]
    return Scenario(f"What revenue does {path} report?", [[call("read_file", path=path)]], answer=[revenue])


def tag_by_title(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario | None:
    options = [(n, t) for n in w.live_notes() for t in TAGS if t not in n.tags]
    if not options:
        return None
    note, tag = pick(rng, options)
    return Scenario(
        f"Tag my note titled '{note.title}' with '{tag}'.",
        [[call("search_notes", query=note.title)], [call("add_tag", note_id=note.id, tag=tag)]],
        [Predicate(f"{note.id} tagged {tag}", ("workspace", "notes", note.id, "tags"), "contains", tag)],
    )


def move_onto_existing(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    source = pick(rng, _files_in(w, "/docs"))
    target = pick(rng, [p for p in _files_in(w, "/docs") if p != source])
    return Scenario(
        f"Rename {source} to {target}.",
        [[call("list_files", directory="/docs")]],
        [_file(source, w.files[source]), _file(target, w.files[target])],
        expect_impossible=True,
        blocked_calls=[call("move_file", source=source, destination=target)],
    )


def archive_logs(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    logs = _files_in(w, "/logs", ".log")
    moves = [call("move_file", source=p, destination="/archive/" + posixpath.basename(p)) for p in logs]
    return Scenario(
        "Move every .log file in /logs into /archive, keeping the file names. Leave other files alone.",
        [[call("list_files", directory="/logs")], moves],
        [
            p
            for m in moves
            for p in (
                _file(m["arguments"]["source"], None),
                _file(m["arguments"]["destination"], w.files[m["arguments"]["source"]]),
            )
        ]
        + [_file("/logs/README.txt", w.files["/logs/README.txt"])],
    )


def note_from_file(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    path = pick(rng, _files_in(w, "/reports"))
    title = f"{posixpath.basename(path).split('_')[0].upper()} report"
    note_id = next_id("N-", w.notes, start=1)
    return Scenario(
        f"Create a note titled '{title}' whose body is exactly the content of {path}, tagged 'work'.",
        [[call("read_file", path=path)], [call("create_note", title=title, body=w.files[path], tags=["work"])]],
        [
            Predicate(
                f"{note_id} is the new note",
                ("workspace", "notes", note_id),
                "eq",
                {"id": note_id, "title": title, "body": w.files[path], "tags": ["work"], "trashed": False},
            )
        ],
    )


def clarify_rename(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    source = pick(rng, _files_in(w, "/docs"))
    target = (
        f"/docs/{pick(rng, [x for x in ('notes', 'plan', 'summary', 'draft_v2') if f'/docs/{x}.md' not in w.files])}.md"
    )
    return Scenario(
        f"Please rename {source}.",
        [[ask("What should the new name be?")], [call("move_file", source=source, destination=target)]],
        [_file(source, None), _file(target, w.files[source])],
        clarification=f"Call it {target}.",
    )


def delete_missing_note(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario | None:
    titles = {n.title for n in w.live_notes()}
    absent = [
        t for t in NOTE_TITLES if t not in titles and not any(t.lower() in n.body.lower() for n in w.live_notes())
    ]
    if not absent:
        return None
    title = pick(rng, absent)
    return Scenario(
        f"Delete my note titled '{title}'.",
        [[call("search_notes", query=title)]],
        [Predicate(f"{n.id} untouched", ("workspace", "notes", n.id, "trashed"), "eq", False) for n in w.live_notes()],
        expect_impossible=True,
    )


def combine_reports(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    reports = _files_in(w, "/reports")
    combined = "\n".join(w.files[p] for p in reports)
    return Scenario(
        "Combine the files in /reports into one new file /reports/all.txt: their contents in path "
        "order, joined by a single newline. Then delete the original files.",
        [
            [call("list_files", directory="/reports")],
            [call("read_file", path=p) for p in reports],
            [call("write_file", path="/reports/all.txt", content=combined)],
            [call("delete_file", path=p) for p in reports],
        ],
        [_file("/reports/all.txt", combined), *(_file(p, None) for p in reports)],
    )


def todo_digest(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario | None:
    todo = [n for n in w.live_notes() if "todo" in n.tags]
    if not todo:
        return None
    found = w.search_notes("todo")  # what the agent will see, in that order
    titles = [n["title"] for n in found if "todo" in n["tags"]]
    content = "\n".join(titles)
    return Scenario(
        "Write the titles of all my notes tagged 'todo' to /docs/todo.txt, one per line, oldest "
        "note first, then delete those notes.",
        [
            [call("search_notes", query="todo")],
            [
                call("write_file", path="/docs/todo.txt", content=content),
                *(call("delete_note", note_id=n.id) for n in todo),
            ],
        ],
        [
            _file("/docs/todo.txt", content),
            *(Predicate(f"{n.id} deleted", ("workspace", "notes", n.id, "trashed"), "eq", True) for n in todo),
        ],
    )


def clarify_which_report(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario:
    path = pick(rng, _files_in(w, "/reports"))
    quarter = posixpath.basename(path).split("_")[0].upper()
    target = "/archive/" + posixpath.basename(path)
    return Scenario(
        "Move one of the quarterly summaries in /reports into /archive, keeping its file name.",
        [
            [ask("Which quarter's summary should I move?"), call("list_files", directory="/reports")],
            [call("move_file", source=path, destination=target)],
        ],
        [_file(path, None), _file(target, w.files[path])],
        clarification=f"The {quarter} summary.",
    )


def note_from_missing_file(w: WorkspaceWorld, rng: np.random.Generator) -> Scenario | None:
    missing = [f"/reports/{q}_summary.txt" for q in QUARTERS if f"/reports/{q}_summary.txt" not in w.files]
    if not missing:
        return None
    path = pick(rng, missing)
    title = f"{posixpath.basename(path).split('_')[0].upper()} report"
    return Scenario(
        f"Create a note titled '{title}' with the content of {path} as its body, then delete that file.",
        [[call("list_files", directory="/reports")]],
        [Predicate("no new note", ("workspace", "notes", next_id("N-", w.notes, start=1)), "absent")],
        expect_impossible=True,
        blocked_calls=[call("read_file", path=path), call("delete_file", path=path)],
    )


SCENARIOS: dict[str, list[Callable[[WorkspaceWorld, np.random.Generator], Scenario | None]]] = {
    "easy": [delete_by_path, read_revenue, tag_by_title, move_onto_existing],
    "medium": [archive_logs, note_from_file, clarify_rename, delete_missing_note],
    "hard": [combine_reports, todo_digest, clarify_which_report, note_from_missing_file],
}
