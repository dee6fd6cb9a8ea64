"""A stable identity for a user's function: what a resumed computation must not change.

A function's pickle differs from one Python process to the next (cloudpickle records
addresses and the order of globals), so it cannot say whether a rerun computes the same
thing.  :func:`code_hash` hashes what the function computes with: its bytecode, the
constants in it (recursively, through nested functions and lambdas), its defaults, the
values its closure holds and the module-level numbers and arrays it reads.

A large array (a 200 MB lookup table) costs ~0.12 s to hash, on every call of a function
that closes over it.  Its contribution is kept with its shared-memory snapshot
(:mod:`xr_spdc.engine.snapshots`), which is reused only while the array's bytes still
equal it (a ~12 ms comparison): the digest is the same as if every byte were hashed.
"""

from __future__ import annotations

import functools
import hashlib
import numbers
import types
from typing import Any

import numpy as np

from . import snapshots


def code_hash(func: Any) -> str:
    """A hex digest of ``func``'s code and constants, equal across processes and sessions.

    Parameters
    ----------
    func : callable
        A Python function or lambda, a ``functools.partial`` of one, a bound method, or an
        object with a Python ``__call__``.

    Returns
    -------
    str
        16 hex digits.  The same for the same code and constants in any process on the same
        Python version (bytecode changes between versions); different when the code, a
        constant, a default, a closure value or a module-level number or array it reads
        changes.  Objects it refers to that are neither numbers, strings, arrays nor
        functions count by their type only.

    Examples
    --------
    >>> code_hash(lambda l, k: k * l) == code_hash(lambda l, k: k * l)
    True
    >>> code_hash(lambda l, k: k * l) == code_hash(lambda l, k: 2 * k * l)
    False
    """
    digest = _Digest()
    _feed(digest, func, set())
    return digest.state.hexdigest()[:16]


class _Digest:
    """A sha256 whose state can be replaced by one saved earlier (see :func:`_feed_array`)."""

    def __init__(self) -> None:
        self.state = hashlib.sha256()

    def update(self, data: Any) -> None:
        self.state.update(data)


def _feed(digest: Any, obj: Any, seen: set[int]) -> None:
    if id(obj) in seen:  # recursion (a function that refers to itself)
        digest.update(b"<seen>")
        return
    for kinds, feeder in _FEEDERS:
        if isinstance(obj, kinds):
            if feeder not in (_feed_value, _feed_array, _feed_sequence):
                seen.add(id(obj))
            feeder(digest, obj, seen)
            return
    seen.add(id(obj))
    call = next((k.__dict__["__call__"] for k in type(obj).__mro__ if "__call__" in k.__dict__),
                None)
    if isinstance(call, types.FunctionType):  # a callable object: its method and state
        _feed(digest, call, seen)
        state = getattr(obj, "__dict__", {})
        _feed(digest, tuple(sorted(state.items(), key=lambda kv: kv[0])), seen)
        return
    digest.update(f"object:{type(obj).__module__}.{type(obj).__qualname__};".encode())


def _feed_value(digest: Any, obj: Any, seen: set[int]) -> None:
    digest.update(f"{type(obj).__name__}:{obj!r};".encode())


def _feed_array(digest: Any, obj: Any, seen: set[int]) -> None:
    # A large array's part of the hash depends on the state before it and on its bytes:
    # kept with its snapshot, keyed by that state, it is reused while the bytes match.
    if not snapshots.eligible(obj):
        digest.state = _fed_array(digest.state, obj)
        return
    before, hashed = digest.state.digest(), []
    # A new snapshot is written while this hashes the array (both release the GIL).
    snap = snapshots.snapshot(obj, beside=lambda: hashed.append(
        _fed_array(digest.state.copy(), obj)))
    if snap is not None and before in snap.memo:
        digest.state = snap.memo[before].copy()
        return
    digest.state = hashed[0] if hashed else _fed_array(digest.state, obj)
    if snap is not None:
        if len(snap.memo) >= _MEMO_SIZE:
            snap.memo.pop(next(iter(snap.memo)))
        snap.memo[before] = digest.state.copy()


def _fed_array(state: Any, obj: Any) -> Any:
    """``state`` (a sha256) after ``obj``'s dtype, shape and C-order bytes."""
    array = np.asarray(obj)
    state.update(f"array:{array.dtype.str}:{array.shape};".encode())
    if array.dtype.kind == "O":
        state.update(repr(array.tolist()).encode())
    else:  # without a copy where the bytes are already in that order
        state.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    return state


#: Hash states kept per large array (one per function closing over it, usually).
_MEMO_SIZE = 16


def _feed_sequence(digest: Any, obj: Any, seen: set[int]) -> None:
    digest.update(f"{type(obj).__name__}[{len(obj)}]".encode())
    for item in sorted(obj, key=repr) if isinstance(obj, frozenset) else obj:
        _feed(digest, item, seen)


def _feed_partial(digest: Any, obj: functools.partial[Any], seen: set[int]) -> None:
    digest.update(b"partial")
    _feed(digest, obj.func, seen)
    _feed(digest, obj.args, seen)
    _feed(digest, tuple(sorted(obj.keywords.items())), seen)


def _feed_method(digest: Any, obj: types.MethodType, seen: set[int]) -> None:
    _feed(digest, obj.__func__, seen)
    digest.update(type(obj.__self__).__qualname__.encode())


def _feed_function(digest: Any, obj: types.FunctionType, seen: set[int]) -> None:
    digest.update(f"function:{obj.__module__}.{obj.__qualname__};".encode())
    _feed_code(digest, obj.__code__, seen)
    _feed(digest, obj.__defaults__, seen)
    _feed(digest, tuple(sorted((obj.__kwdefaults__ or {}).items())), seen)
    for cell in obj.__closure__ or ():
        try:
            _feed(digest, cell.cell_contents, seen)
        except ValueError:  # an empty cell
            digest.update(b"<empty>")
    # Module-level numbers, strings and arrays the code reads are its constants too.
    for name in _global_names(obj.__code__):
        value = obj.__globals__.get(name)
        if isinstance(value, (numbers.Number, str, bytes, np.ndarray, np.generic)):
            digest.update(name.encode())
            _feed(digest, value, seen)


def _feed_code(digest: Any, code: types.CodeType, seen: set[int]) -> None:
    digest.update(code.co_code)
    digest.update(repr((code.co_names, code.co_varnames, code.co_argcount,
                        code.co_kwonlyargcount)).encode())
    for constant in code.co_consts:
        _feed(digest, constant, seen)


def _feed_code_object(digest: Any, obj: types.CodeType, seen: set[int]) -> None:
    _feed_code(digest, obj, seen)


#: What each kind of object contributes, in order of precedence.
_FEEDERS: tuple[tuple[Any, Any], ...] = (
    ((type(None), bool, numbers.Number, str, bytes), _feed_value),
    ((np.ndarray, np.generic), _feed_array),
    ((tuple, list, frozenset), _feed_sequence),
    (functools.partial, _feed_partial),
    (types.MethodType, _feed_method),
    (types.CodeType, _feed_code_object),
    (types.FunctionType, _feed_function),
)


def _global_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.extend(_global_names(constant))
    return list(dict.fromkeys(names))
