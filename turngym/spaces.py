"""Observation and action spaces for text.

gymnasium's :class:`~gymnasium.spaces.Text` keeps its charset as a Python set and tuple, so a
space that honestly covers every character an env may emit (table cells with ``é``, ``°C``,
``€``; NetHack maps; code) would cost megabytes per env. :class:`UnicodeText` is a ``Text``
whose charset is all of Unicode without materialising it: ``contains`` accepts any string of
valid code points up to ``max_length``, and shared memory (``AsyncVectorEnv``) stores code
points, so vector envs and ``check_env`` work unchanged. ``sample`` draws printable ASCII.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Text

_SAMPLE_CHARS = string.ascii_letters + string.digits + string.punctuation + " \n"
_MAX_CODE_POINT = 0x110000


def _is_code_point(char: str) -> bool:
    # Lone surrogates cannot be encoded as UTF-8, so they are not text we ever emit.
    return len(char) == 1 and not 0xD800 <= ord(char) <= 0xDFFF


class _AllCharacters(Sequence[str]):
    """Every Unicode code point, as a set and as an index, without storing them."""

    def __len__(self) -> int:
        return _MAX_CODE_POINT

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return chr(int(index))

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and _is_code_point(char)

    def __iter__(self):
        return (chr(i) for i in range(_MAX_CODE_POINT))


class UnicodeText(Text):
    """A string of up to ``max_length`` Unicode characters."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None):
        super().__init__(max_length, min_length=min_length, charset=_SAMPLE_CHARS, seed=seed)
        self._all = _AllCharacters()

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random printable-ASCII string (masks over all of Unicode are not supported)."""
        if mask is not None or probability is not None:
            raise NotImplementedError("UnicodeText.sample does not take masks")
        length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        picks = self.np_random.integers(len(_SAMPLE_CHARS), size=length)
        return "".join(_SAMPLE_CHARS[i] for i in picks)

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, str)
            and self.min_length <= len(x) <= self.max_length
            and all(_is_code_point(c) for c in x)
        )

    @property
    def character_set(self) -> _AllCharacters:  # type: ignore[override]
        return self._all

    @property
    def character_list(self) -> _AllCharacters:  # type: ignore[override]
        return self._all

    def character_index(self, char: str) -> np.int32:
        return np.int32(ord(char))

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


# --------------------------------------------------------------------------- vector envs
# gymnasium 1.2's AsyncVectorEnv reads Text observations out of shared memory once, when it
# starts, and then returns that stale tuple on every step. For UnicodeText the reader returns a
# live view instead (as Box observations are), and strings are packed as UTF-32 in one call.

_PAD = _MAX_CODE_POINT  # what gymnasium pads a flattened Text with (len(character_set))


def _encode(space: UnicodeText, text: str) -> np.ndarray:
    codes = np.full(space.max_length, _PAD, dtype=np.int32)
    packed = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    codes[: len(packed)] = packed
    return codes


def _decode(row: np.ndarray) -> str:
    ends = np.flatnonzero(row >= _PAD)
    end = int(ends[0]) if len(ends) else len(row)
    return row[:end].astype("<u4").tobytes().decode("utf-32-le")


class SharedTextBatch(Sequence[str]):
    """The current observations of an AsyncVectorEnv, read from its shared buffer on access."""

    def __init__(self, space: UnicodeText, shared_memory: Any, n: int):
        buffer = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
        self._rows = buffer.reshape(n, space.max_length)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return tuple(_decode(row) for row in self._rows[index])
        return _decode(self._rows[index])

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __reduce__(self):
        return (tuple, (tuple(self),))

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"SharedTextBatch({tuple(self)!r})"


def _register_vector_support() -> None:
    from gymnasium.spaces.utils import flatten, unflatten
    from gymnasium.vector.utils import read_from_shared_memory, write_to_shared_memory

    @flatten.register(UnicodeText)
    def _flatten(space: UnicodeText, x: str) -> np.ndarray:
        return _encode(space, x)

    @unflatten.register(UnicodeText)
    def _unflatten(space: UnicodeText, x: np.ndarray) -> str:
        return _decode(np.asarray(x))

    @read_from_shared_memory.register(UnicodeText)
    def _read(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTextBatch:
        return SharedTextBatch(space, shared_memory, n)

    @write_to_shared_memory.register(UnicodeText)
    def _write(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
        destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
        size = space.max_length
        destination[index * size : (index + 1) * size] = _encode(space, value)


_register_vector_support()
