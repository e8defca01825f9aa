"""Offline images for Docker sandboxes: a Debian base from the apt mirror, projects layered on it.

Why not ``docker pull``: no image registry is reachable from these machines, only the Debian
mirror is. So the base image is a ``debootstrap`` root filesystem imported with ``docker import``,
and project images are ``docker build``s ``FROM`` it that only ``COPY`` local files (``pull=False``
and no network during ``RUN``). Both are cached by a tag that hashes their recipe, so a second
call costs one ``images.get``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import docker
import docker.errors
from rich.console import Console
from rich.filesize import decimal
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from turngym.sandboxes.base import SandboxError
from turngym.sandboxes.docker_engine import LABEL

log = logging.getLogger(__name__)

# Bump when the build steps below change in a way that changes the image (not just the code).
RECIPE_VERSION = 1
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_LOCK = Path(tempfile.gettempdir()) / "turngym-image-build.lock"
# The rootfs is hundreds of MB; stream it to the engine in chunks of this size.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BaseImageRecipe:
    """What goes into the base image; its hash is the image tag, so a change means a rebuild."""

    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = ("python3", "python3-pip", "git", "patch")
    workdir: str = "/workspace"

    @property
    def tag(self) -> str:
        recipe = json.dumps(
            [RECIPE_VERSION, self.suite, self.variant, sorted(self.packages), self.workdir]
        )
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
        return f"turngym/base:{self.suite}-{digest}"


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def debian_mirror(sources_dir: Path = Path("/etc/apt/sources.list.d")) -> str:
    """The Debian mirror apt already uses (deb822 ``URIs:`` or one-line ``deb`` entries).

    debootstrap must use the mirror this machine can reach, which is the one apt is set up for.
    """
    for path in sorted(sources_dir.glob("*.sources")) + sorted(sources_dir.glob("*.list")):
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", line)
            if match and "security" not in match.group(1):
                return match.group(1).rstrip("/")
    return DEFAULT_MIRROR


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds across processes: two test sessions must not debootstrap twice."""
    with open(BUILD_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _progress(enabled: bool) -> Progress:
    """One line per build step: what it is doing now, its counts so far, its time."""
    return Progress(
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        TextColumn("[dim]{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


def ensure_base_image(
    client: docker.DockerClient,
    recipe: BaseImageRecipe = BaseImageRecipe(),
    *,
    progress: bool = True,
) -> str:
    """The tag of the base image for ``recipe``, building it first if the engine lacks it."""
    if image_exists(client, recipe.tag):
        return recipe.tag
    if os.geteuid() != 0:
        raise SandboxError(f"image {recipe.tag} is missing and building it (debootstrap) needs root")
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is not installed (as root: .ci/ensure-docker)")
    with _build_lock():
        if image_exists(client, recipe.tag):  # another process built it while we waited
            return recipe.tag
        _build_base_image(client, recipe, progress)
    return recipe.tag


def _build_base_image(client: docker.DockerClient, recipe: BaseImageRecipe, progress: bool) -> None:
    log.info("building %s with debootstrap (about a minute, once)", recipe.tag)
    rootfs = Path(tempfile.mkdtemp(prefix="turngym-rootfs-"))
    try:
        with _progress(progress) as bar:
            _debootstrap(recipe, rootfs, bar)
            _trim_rootfs(rootfs)
            _import_rootfs(client, recipe, rootfs, bar)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    log.info("built %s", recipe.tag)


def _debootstrap(recipe: BaseImageRecipe, rootfs: Path, bar: Progress) -> None:
    command = [
        "debootstrap",
        f"--variant={recipe.variant}",
        f"--include={','.join(recipe.packages)}",
        recipe.suite,
        str(rootfs),
        debian_mirror(),
    ]
    task = bar.add_task(f"debootstrap {recipe.suite}: starting", total=1, detail="")
    counts = {"Retrieving": 0, "Unpacking": 0, "Configuring": 0}
    done = {"Retrieving": "retrieved", "Unpacking": "unpacked", "Configuring": "configured"}
    tail: deque[str] = deque(maxlen=30)  # kept for the error message
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            if not line.startswith("I: "):
                continue
            step = line[3:].strip()
            verb = step.split(" ", 1)[0]
            if verb in counts:
                counts[verb] += 1
            detail = ", ".join(f"{n} {done[verb]}" for verb, n in counts.items() if n)
            bar.update(task, description=f"debootstrap {recipe.suite}: {step[:50]}", detail=detail)
    if proc.returncode != 0:
        raise SandboxError(
            f"debootstrap failed (exit {proc.returncode}): {' '.join(command)}\n" + "\n".join(tail)
        )
    bar.update(task, description=f"debootstrap {recipe.suite}: done", completed=1)


def _trim_rootfs(rootfs: Path) -> None:
    """Drop the downloaded .debs and apt lists: useless without a network, and most of the size."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"):
        for path in rootfs.glob(pattern):
            if path.is_file():
                path.unlink()


def _import_rootfs(
    client: docker.DockerClient, recipe: BaseImageRecipe, rootfs: Path, bar: Progress
) -> None:
    """``tar -C rootfs -c . | docker import -`` through the API, streamed (no temp tarball)."""
    task = bar.add_task(f"docker import {recipe.tag}", total=1, detail="")
    changes = [
        "ENV LANG=C.UTF-8",
        f"WORKDIR {recipe.workdir}",
        f"LABEL {LABEL}=1",
        'CMD ["/bin/bash"]',
    ]
    os.makedirs(rootfs / recipe.workdir.lstrip("/"), exist_ok=True)
    with subprocess.Popen(
        ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as tar:
        assert tar.stdout is not None

        def chunks() -> Iterator[bytes]:
            sent = 0
            while chunk := tar.stdout.read(_CHUNK):
                sent += len(chunk)
                bar.update(task, detail=f"{decimal(sent)} sent")
                yield chunk

        repository, tag = recipe.tag.split(":")
        client.api.import_image_from_data(chunks(), repository=repository, tag=tag, changes=changes)
        stderr = tar.stderr.read().decode(errors="replace") if tar.stderr else ""
    if tar.returncode != 0:
        raise SandboxError(f"tar of the rootfs failed (exit {tar.returncode}): {stderr}")
    if not image_exists(client, recipe.tag):
        raise SandboxError(f"docker import finished but {recipe.tag} does not exist")
    bar.update(task, completed=1)


def _checked_relative(path: str) -> PurePosixPath:
    """A file path inside the build context; absolute paths and '..' would escape it."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"project file path must be relative and stay inside the project: {path!r}")
    return pure


def build_project_image(
    client: docker.DockerClient,
    files: Mapping[str, bytes | str | Path],
    *,
    base: str | None = None,
    workdir: str = "/workspace",
    dockerfile_lines: Sequence[str] = (),
    tag: str | None = None,
) -> str:
    """Build (or reuse) an image ``FROM base`` with ``files`` copied into ``workdir``.

    ``files`` maps a relative path in the image's workdir to its content (bytes, text, or a
    host file to copy). ``dockerfile_lines`` are appended after the COPY (e.g. ``RUN pip
    install --no-index -e .``); they run with no network. The default tag hashes everything
    that goes in, so an unchanged project is never rebuilt.
    """
    base = base or ensure_base_image(client)
    contents = {
        _checked_relative(name): (
            Path(data).read_bytes() if isinstance(data, Path) else
            data.encode() if isinstance(data, str) else data
        )
        for name, data in files.items()
    }
    dockerfile = "\n".join(
        [f"FROM {base}", f"COPY files/ {workdir.rstrip('/')}/", f"WORKDIR {workdir}",
         *dockerfile_lines, ""]
    )
    if tag is None:
        digest = hashlib.sha256(dockerfile.encode())
        for name in sorted(contents):
            digest.update(f"\0{name}\0".encode() + hashlib.sha256(contents[name]).digest())
        tag = f"turngym/project:{digest.hexdigest()[:12]}"
    if image_exists(client, tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="turngym-build-") as context:
        root = Path(context)
        (root / "files").mkdir()
        for name, data in contents.items():
            target = root / "files" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (root / "Dockerfile").write_text(dockerfile)
        try:
            client.images.build(
                path=context, tag=tag, pull=False, rm=True, forcerm=True,
                network_mode="none", labels={LABEL: "1"},
            )
        except docker.errors.BuildError as exc:
            build_log = "".join(str(item.get("stream", item)) for item in exc.build_log)
            raise SandboxError(f"docker build of {tag} failed: {exc.msg}\n{build_log}") from exc
    log.info("built project image %s (%d files)", tag, len(contents))
    return tag
