"""The wire format between the grader and the worker: every plain value comes
back with the type, shape and dtype it left with, anything else comes back
opaque, and no stream of bytes, however mangled, makes the decoder raise
anything but WireError."""
from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.sandbox import wire
from grader.sandbox.wire import ALLOWED_DTYPES, Opaque, Unpacker, WireError, decode, encode, pack

DTYPES = [np.dtype(s) for s in ALLOWED_DTYPES]


def numpy_scalars():
    return st.sampled_from(DTYPES).flatmap(lambda d: hnp.from_dtype(d).map(d.type))


def arrays():
    shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)
    return st.sampled_from(DTYPES).flatmap(lambda d: hnp.arrays(d, shapes))


def texts():
    # Lone surrogates too: a student's string may hold anything Python allows.
    return st.text(st.characters(codec=None, exclude_categories=()), max_size=20)


def leaves():
    return st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 200), max_value=2 ** 200),
                     st.floats(allow_nan=True, allow_infinity=True), texts(), numpy_scalars(), arrays(),
                     st.lists(st.floats(), min_size=5, max_size=30),  # travel as one block
                     st.sampled_from(DTYPES).flatmap(  # a cost history of numpy scalars: one block too
                         lambda d: st.lists(hnp.from_dtype(d).map(d.type), min_size=5, max_size=30)))


def values():
    return st.recursive(leaves(), lambda inner: st.lists(inner, max_size=6) | st.tuples(inner, inner)
                        | st.lists(inner, max_size=3).map(tuple), max_leaves=25)


def same(a, b) -> bool:
    """Equal in type, dtype, shape and every bit of every number (NaN, -0.0 included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def through_pipe(values, cut: int = 7):
    """Values sent as one message, fed to an Unpacker in pieces of `cut` bytes, decoded."""
    data = pack({"op": "result", "values": [encode(v) for v in values]})
    unpacker, messages = Unpacker(), []
    for start in range(0, len(data), cut):
        messages += unpacker.feed(data[start:start + cut])
    [message] = messages
    return [decode(v) for v in message["values"]]


@given(values(), st.integers(min_value=1, max_value=64))
def test_every_plain_value_comes_back_exactly(value, cut):
    [back] = through_pipe([value], cut)
    assert same(back, value), (value, back)


@pytest.mark.parametrize("value", [
    np.asarray(0.5), np.asarray(3, dtype=np.int32), np.zeros((0,)), np.zeros((2, 0, 3), dtype=np.uint8),
    np.float32(1.5), np.float16(-0.0), np.int8(-3), np.uint64(2 ** 64 - 1), np.bool_(True), np.float64("nan"),
    [], (), [[]], ((1,),), [np.float64(1.0)] * 9, [1.0] * 9, -(2 ** 100), "\ud800", np.arange(6).reshape(2, 3).T,
], ids=repr)
def test_edge_values_come_back_exactly(value):
    [back] = through_pipe([value])
    assert same(back, value)


def test_a_zero_d_array_stays_zero_d():
    """The stable np.where sigmoid returns one for a number: it must not become shape (1,)."""
    z = np.asarray(3.0)
    [back] = through_pipe([np.where(z >= 0, 1 / (1 + np.exp(-z)), 0.0)])
    assert type(back) is np.ndarray and back.shape == () and back.dtype == np.float64


def test_big_endian_arrays_come_back_with_their_values():
    [back] = through_pipe([np.array([1.5, -2.0], dtype=">f8")])
    assert back.dtype == np.float64 and back.tolist() == [1.5, -2.0]


class FloatSubclass(float):
    def __eq__(self, other):
        return True


class ArraySubclass(np.ndarray):
    pass


class ScalarSubclass(np.float64):
    pass


@pytest.mark.parametrize("value, type_name", [
    (FloatSubclass(1.0), "test_wire.FloatSubclass"),
    (np.zeros(3).view(ArraySubclass), "test_wire.ArraySubclass"),
    (ScalarSubclass(1.0), "test_wire.ScalarSubclass"),
    (np.array([1, "a"], dtype=object), "numpy.ndarray"),
    (np.array(["a"]), "numpy.ndarray"),
    (np.complex128(1j), "numpy.complex128"),
    ({"a": 1}, "builtins.dict"),
    (b"\x80\x04pickle", "builtins.bytes"),
    (object(), "builtins.object"),
])
def test_anything_else_comes_back_opaque(value, type_name):
    [back] = through_pipe([value])
    assert type(back) is Opaque and back.type_name == type_name


def test_nesting_beyond_the_limit_comes_back_opaque():
    deep = []
    for _ in range(50):
        deep = [deep]
    [back] = through_pipe([deep])
    for _ in range(wire.MAX_DEPTH):
        back = back[0]
    assert type(back) is Opaque


def test_a_dict_smuggled_into_a_value_is_refused():
    """Messages may hold dicts; values never do, so a message that puts one
    where a value belongs (as student code writing to the pipe might) is refused."""
    [message] = Unpacker().feed(pack({"op": "result", "value": {"$nd": "|O", "data": ""}}))
    with pytest.raises(WireError):
        decode(message["value"])


# -- hostile bytes ------------------------------------------------------------------

def _decode_all(item):
    """Decode every value a message holds, as the grader would."""
    if type(item) is wire.Value:
        decode(item)
    elif type(item) is dict:
        for v in item.values():
            _decode_all(v)
    elif type(item) is list:
        for v in item:
            _decode_all(v)


def _feed(data: bytes, cut: int):
    unpacker = Unpacker()
    for start in range(0, len(data), cut):
        for message in unpacker.feed(data[start:start + cut]):
            _decode_all(message)


@given(st.binary(max_size=400), st.integers(min_value=1, max_value=50))
def test_random_bytes_raise_only_wire_errors(data, cut):
    try:
        _feed(data, cut)
    except WireError:
        pass


@st.composite
def mangled(draw):
    """A real message with bytes flipped, cut out, put in, or its length header changed."""
    data = bytearray(pack({"op": "call", "id": draw(st.integers(0, 9)), "args": [encode(v) for v in draw(
        st.lists(values(), max_size=3))]}))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "insert", "header"]))
        if how == "flip":
            data[where] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[where:where + draw(st.integers(1, 8))]
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[:4] = struct.pack(">I", draw(st.integers(0, 2 ** 32 - 1)))
        if not data:
            data = bytearray(b"\x00")
    return bytes(data)


@given(mangled(), st.integers(min_value=1, max_value=50))
def test_mangled_messages_raise_only_wire_errors(data, cut):
    try:
        _feed(data, cut)
    except WireError:
        pass


@pytest.mark.parametrize("body", [
    b"d\xff\xff\xff\xff",  # a dict of four billion entries in five bytes
    b"l\xff\xff\xff\x7f",  # a list, the same
    b"d\x01\x00\x00\x00\x01\x00\x00\x00xv\x09\x00\x00\x00a\x00\x02" + b"\xff" * 16,  # an array of 2^128 items
    b"d\x01\x00\x00\x00\x01\x00\x00\x00xv\x05\x00\x00\x00D\xff\xff\xff\x0f",  # floats beyond the message
    b"d\x01\x00\x00\x00\x01\x00\x00\x00xv\x02\x00\x00\x00a\x0c",  # dtype code 12 (none such)
    b"d\x01\x00\x00\x00\x01\x00\x00\x00xv\x03\x00\x00\x00a\x00\x21",  # 33 dimensions
    b"d" + b"\x01\x00\x00\x00\x01\x00\x00\x00x" + b"l\x01\x00\x00\x00" * 30 + b"N",  # nested too deep
])
def test_crafted_headers_are_refused_without_allocating(body):
    with pytest.raises(WireError):
        _feed(struct.pack(">I", len(body)) + body, 1 << 20)


def test_an_oversized_message_is_refused_before_it_is_read():
    with pytest.raises(WireError, match="over the limit"):
        Unpacker().feed(struct.pack(">I", wire.MAX_MESSAGE + 1))


@given(arrays())
def test_a_decoded_array_shares_no_memory_with_the_message(value):
    """Arrays come back writable and of their own, so a test may change them freely."""
    assume(value.size)
    [back] = through_pipe([value])
    assert back.flags.writeable and back.flags.owndata
    back.fill(0)
    assert same(through_pipe([value])[0], value)


def test_a_cost_history_of_python_floats_travels_as_one_block():
    history = [math.pi * i for i in range(10_000)]
    encoded = encode(history).data
    assert encoded[:1] == b"D" and len(encoded) == 5 + 8 * len(history)
    assert same(through_pipe([history])[0], history)
