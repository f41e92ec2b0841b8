"""Plain-data encoding of the values and messages that cross the sandbox boundary.

Both sides use this file: the grader imports it, and the worker receives its
source text in front of its own (the worker imports nothing from `grader`).
Only None, bools, ints, floats, strings, tuples, lists, numpy numeric scalars
and numeric numpy arrays are represented. Anything else, including subclasses
of those types, becomes an `Opaque` description that can never pass a check.
Nothing is ever pickled; arrays travel as raw little-endian bytes.
"""
import base64
import json
import struct

# Numeric dtypes a value may arrive as; anything else (object, str, void) is refused.
ALLOWED_DTYPES = frozenset(
    ["<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"]
)
MAX_MESSAGE = 16 * 1024 * 1024
MAX_DEPTH = 20
_HEADER = struct.Struct(">I")


class WireError(ValueError):
    """A message or value that does not follow the wire format."""


class Opaque:
    """Stands in for a value the worker could not send as plain data."""

    __slots__ = ("type_name", "text")

    def __init__(self, type_name, text):
        # Both come from student code: printable characters only.
        self.type_name = _printable(type_name, 200)
        self.text = _printable(text, 300)

    def __repr__(self):
        return f"<{self.type_name} object>"


def _printable(text, limit):
    return "".join(c if c.isprintable() else "?" for c in str(text)[:limit])


def _numpy():
    import numpy

    return numpy


def encode(value, depth=0):
    """Turn `value` into JSON-able data, judging types by exact class only."""
    if depth > MAX_DEPTH:
        return {"$obj": "nested too deeply", "repr": ""}
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if kind is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    np = _numpy()
    if kind is list:
        # A long list of one numpy scalar type (a cost history) travels as one
        # array and comes back as the same list of scalars.
        if len(value) > 8 and isinstance(value[0], np.generic) and np.dtype(type(value[0])).type is type(value[0]):
            first = type(value[0])
            dt = np.dtype(first).newbyteorder("<")
            if dt.str in ALLOWED_DTYPES and all(type(v) is first for v in value):
                return {"$nplist": dt.str,
                        "data": base64.b64encode(np.array(value, dtype=dt).tobytes()).decode("ascii")}
        return [encode(v, depth + 1) for v in value]
    if kind is np.ndarray and value.dtype.newbyteorder("<").str in ALLOWED_DTYPES:
        arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {
            "$nd": arr.dtype.str,
            "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic) and np.dtype(kind).type is kind:
        dt = np.dtype(kind).newbyteorder("<")
        if dt.str in ALLOWED_DTYPES:
            return {"$np": dt.str, "data": base64.b64encode(np.asarray(value, dt).tobytes()).decode("ascii")}
    try:
        text = object.__repr__(value)
    except Exception:  # noqa: BLE001 - a student's class may break even object.__repr__
        text = ""
    return {"$obj": f"{kind.__module__}.{kind.__qualname__}", "repr": text}


def decode(data, depth=0):
    """Rebuild a value from data made by `encode`, strictly; raises WireError."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(data)
    if data is None or kind is bool or kind is int or kind is float or kind is str:
        return data
    if kind is list:
        return [decode(v, depth + 1) for v in data]
    if kind is not dict or len(data) == 0:
        raise WireError(f"unexpected {kind.__name__} in message")
    if "$tuple" in data and type(data["$tuple"]) is list:
        return tuple(decode(v, depth + 1) for v in data["$tuple"])
    if "$obj" in data:
        return Opaque(data.get("$obj", "object"), data.get("repr", ""))
    np = _numpy()
    if "$nd" in data or "$np" in data or "$nplist" in data:
        dtype = data.get("$nd", data.get("$np", data.get("$nplist")))
        if dtype not in ALLOWED_DTYPES or type(data.get("data")) is not str:
            raise WireError(f"refused dtype {dtype!r}")
        raw = base64.b64decode(data["data"], validate=True)
        flat = np.frombuffer(raw, dtype=np.dtype(dtype)).astype(np.dtype(dtype).newbyteorder("="))
        if "$nplist" in data:
            return list(flat)
        if "$np" in data:
            if flat.size != 1:
                raise WireError("numpy scalar with wrong size")
            return flat[0]
        shape = data.get("shape")
        if type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape):
            raise WireError("bad array shape")
        count = 1
        for s in shape:
            count *= s
        if count != flat.size:
            raise WireError("array data does not match its shape")
        return flat.reshape(shape)
    raise WireError("unknown tagged value")


def pack(message):
    """Frame one message (a dict of plain data) for a pipe."""
    body = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(body)) + body


class Unpacker:
    """Collects bytes from a pipe and yields complete messages."""

    def __init__(self, limit=MAX_MESSAGE):
        self.buffer = bytearray()
        self.limit = limit

    def feed(self, chunk):
        """The messages completed by `chunk`; WireError when the stream is corrupt."""
        messages, error = self.feed_partly(chunk)
        if error is not None:
            raise error
        return messages

    def feed_partly(self, chunk):
        """(messages, error): the messages complete before any corruption, and
        the WireError that ends the stream there (None while all is well)."""
        messages = []
        try:
            self._parse(chunk, messages)
        except WireError as exc:
            return messages, exc
        return messages, None

    def _parse(self, chunk, messages):
        self.buffer += chunk
        while len(self.buffer) >= 4:
            (size,) = _HEADER.unpack_from(self.buffer)
            if size > self.limit:
                raise WireError(f"message of {size} bytes is over the limit")
            if len(self.buffer) < 4 + size:
                break
            body = bytes(self.buffer[4 : 4 + size])
            del self.buffer[: 4 + size]
            try:
                message = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise WireError(f"unreadable message: {type(exc).__name__}") from None
            if type(message) is not dict:
                raise WireError("message is not an object")
            messages.append(message)
