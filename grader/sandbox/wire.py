"""Plain-data encoding of the values and messages that cross the sandbox boundary.

Both sides use this file: the grader imports it, and the worker receives its
source text in front of its own (the worker imports nothing from `grader`).

The format is binary, one tag byte per item, and nothing is ever pickled.
A *value* (what a student function takes or returns) may hold only None,
bools, ints, floats, strings, tuples, lists, numpy numeric scalars and numeric
numpy arrays, each judged by its exact type; anything else, subclasses of
those types included, becomes an `Opaque` description that can never pass a
check. Values come back with the type, shape and dtype they left with (a 0-d
array stays 0-d, an np.float32 stays an np.float32). A *message* (a call, a
reply) is a dict with string keys around such values: `encode(value)` makes
the part of a message that holds a value, `decode` turns it back, and only
there are values rebuilt, so a dict smuggled into a value is refused.
"""
import struct

# Numeric dtypes a value may hold, by their one-byte code on the wire; anything
# else (object, str, void, complex) is refused.
ALLOWED_DTYPES = ("<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1")
MAX_MESSAGE = 16 * 1024 * 1024
MAX_DEPTH = 20
MAX_DIMS = 32
_HEADER = struct.Struct(">I")
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")
# A list this long or longer of one number type travels as one block of bytes.
_BLOCK = 5


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


class Encoded:
    """A value encoded for a message (what `encode` returns)."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


class Value:
    """A value as it arrived in a message, rebuilt; `decode` unwraps it."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _printable(text, limit):
    return "".join(c if c.isprintable() else "?" for c in str(text)[:limit])


_NP = []  # numpy and its tables, once imported


def _numpy():
    """numpy, the allowed dtypes, and their codes by scalar type and by little-endian name."""
    if not _NP:
        import numpy

        dtypes = [numpy.dtype(s) for s in ALLOWED_DTYPES]
        _NP.extend([numpy, dtypes, {d.type: i for i, d in enumerate(dtypes)},
                    {s: i for i, s in enumerate(ALLOWED_DTYPES)}])
    return _NP


# -- encoding ---------------------------------------------------------------------

def encode(value):
    """`value` as the part of a message that holds it, types judged by exact class only."""
    out = bytearray()
    _put(out, value, 0)
    return Encoded(bytes(out))


def _opaque(out, type_name, text):
    out += b"o"
    _put_text(out, type_name)
    _put_text(out, text)


def _put_text(out, text):
    raw = text.encode("utf-8", "surrogatepass")
    out += _U32.pack(len(raw))
    out += raw


def _put(out, value, depth):
    kind = type(value)
    if kind is float:
        out += b"f"
        out += _F64.pack(value)
    elif kind is int:
        if -(1 << 63) <= value < (1 << 63):
            out += b"i"
            out += _I64.pack(value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            out += b"I"
            out += _U32.pack(len(raw))
            out += raw
    elif value is None:
        out += b"N"
    elif kind is bool:
        out += b"T" if value else b"F"
    elif kind is str:
        out += b"s"
        _put_text(out, value)
    elif depth >= MAX_DEPTH and (kind is list or kind is tuple):
        _opaque(out, "nested too deeply", "")
    elif kind is list:
        if len(value) >= _BLOCK and _put_block(out, value):
            return
        out += b"l"
        out += _U32.pack(len(value))
        for item in value:
            _put(out, item, depth + 1)
    elif kind is tuple:
        out += b"t"
        out += _U32.pack(len(value))
        for item in value:
            _put(out, item, depth + 1)
    elif kind is Opaque:
        _opaque(out, value.type_name, value.text)
    else:
        _put_numpy(out, value, kind)


def _put_block(out, items):
    """A list of Python floats, or of numpy scalars of one type, as one block; False if it is neither."""
    kinds = set(map(type, items))
    if len(kinds) != 1:
        return False
    kind = kinds.pop()
    if kind is float:
        data = struct.pack(f"<{len(items)}d", *items)
        out += b"D"
        out += _U32.pack(len(items))
        out += data
        return True
    np, dtypes, codes, names = _numpy()
    code = codes.get(kind) if issubclass(kind, np.generic) else None
    if code is None:
        return False
    out += b"L"
    out += bytes((code,))
    out += _U32.pack(len(items))
    out += np.array(items, dtype=dtypes[code]).tobytes()
    return True


def _put_numpy(out, value, kind):
    np, dtypes, codes, names = _numpy()
    if kind is np.ndarray:
        code = _array_code(value.dtype, names)
        if code is not None and value.ndim <= MAX_DIMS:
            out += b"a"
            out += bytes((code, value.ndim))
            for size in value.shape:
                out += _U64.pack(size)
            out += value.astype(dtypes[code], order="C", copy=False).tobytes()
            return
    elif issubclass(kind, np.generic):
        # Only the scalar type numpy itself makes for an allowed dtype: never a subclass.
        code = codes.get(kind)
        if code is None and np.dtype(kind).type is kind:
            code = _array_code(np.dtype(kind), names)  # another name for an allowed dtype (longlong)
        if code is not None:
            out += b"g"
            out += bytes((code,))
            out += np.asarray(value, dtype=dtypes[code]).tobytes()
            return
    try:
        text = object.__repr__(value)
    except Exception:  # noqa: BLE001 - a student's class may break even object.__repr__
        text = ""
    _opaque(out, f"{kind.__module__}.{kind.__qualname__}", text)


def _array_code(dtype, names):
    """The code of an allowed dtype, in either byte order; None for any other."""
    return names.get(dtype.newbyteorder("<").str)


def pack(message):
    """Frame one message (a dict with string keys) for a pipe."""
    out = bytearray(4)
    _put_message(out, message, 0)
    _HEADER.pack_into(out, 0, len(out) - 4)
    return bytes(out)


def _put_message(out, item, depth):
    kind = type(item)
    if depth > MAX_DEPTH:
        raise ValueError("message nested too deeply")
    if kind is dict:
        out += b"d"
        out += _U32.pack(len(item))
        for key, value in item.items():
            if type(key) is not str:
                raise TypeError("message keys must be strings")
            _put_text(out, key)
            _put_message(out, value, depth + 1)
    elif kind is list or kind is tuple:
        out += b"l"
        out += _U32.pack(len(item))
        for value in item:
            _put_message(out, value, depth + 1)
    elif kind is Encoded:
        out += b"v"
        out += _U32.pack(len(item.data))
        out += item.data
    elif item is None or kind in (bool, int, float, str):
        _put(out, item, depth)
    else:
        raise TypeError(f"a message cannot hold a {kind.__name__}: encode it")


# -- decoding ---------------------------------------------------------------------

def decode(data):
    """The value held by `data` (from a message, or from `encode`), freshly built; WireError otherwise."""
    kind = type(data)
    if kind is Value:
        return data.value
    if kind is Encoded:
        return _whole(data.data, False)
    raise WireError(f"expected an encoded value, got {kind.__name__}")


def unpack(body):
    """One message from its bytes (without the length header); WireError when it is not one."""
    message = _whole(body, True)
    if type(message) is not dict:
        raise WireError("message is not a dict")
    return message


def _whole(raw, message):
    """The one item `raw` holds, to its last byte."""
    data = memoryview(raw)
    try:
        item, end = _parse(data, 0, 0, message)
    except WireError:
        raise
    except (struct.error, IndexError, ValueError, TypeError, OverflowError, MemoryError, RecursionError) as exc:
        raise WireError(f"unreadable data: {type(exc).__name__}") from None
    if end != len(data):
        raise WireError("trailing bytes")
    return item


def _count(data, pos, each):
    """A count at `pos`, checked against the bytes left (each item takes at least `each`)."""
    (count,) = _U32.unpack_from(data, pos)
    if count * each > len(data) - pos - 4:
        raise WireError("count larger than the message")
    return count, pos + 4


def _text(data, pos):
    (size,) = _U32.unpack_from(data, pos)
    pos += 4
    end = pos + size
    if end > len(data):
        raise WireError("text cut short")
    return str(data[pos:end], "utf-8", "surrogatepass"), end


def _parse(data, pos, depth, message):
    """(item, next position) at `pos` of memoryview `data`; dicts and
    embedded values only in a message's own structure, never in a value."""
    tag = data[pos]
    pos += 1
    if tag == 0x66:  # f
        return _F64.unpack_from(data, pos)[0], pos + 8
    if tag == 0x69:  # i
        return _I64.unpack_from(data, pos)[0], pos + 8
    if tag == 0x73:  # s
        return _text(data, pos)
    if tag == 0x4E:  # N
        return None, pos
    if tag == 0x54:  # T
        return True, pos
    if tag == 0x46:  # F
        return False, pos
    if (tag == 0x6C or tag == 0x74 or tag == 0x64) and depth >= MAX_DEPTH:
        raise WireError("nested too deeply")
    if tag == 0x6C or tag == 0x74:  # l, t
        count, pos = _count(data, pos, 1)
        items = []
        for _ in range(count):
            item, pos = _parse(data, pos, depth + 1, message)
            items.append(item)
        return (items if tag == 0x6C else tuple(items)), pos
    if tag == 0x64 and message:  # d
        count, pos = _count(data, pos, 5)
        found = {}
        for _ in range(count):
            key, pos = _text(data, pos)
            found[key], pos = _parse(data, pos, depth + 1, True)
        return found, pos
    if tag == 0x76 and message:  # v: a value, parsed within its own length
        size, pos = _count(data, pos, 1)
        end = pos + size
        value, after = _parse(data[:end], pos, 0, False)
        if after != end:
            raise WireError("value shorter than its length")
        return Value(value), end
    if tag == 0x61 or tag == 0x67 or tag == 0x4C:  # a, g, L
        return _parse_numpy(data, pos, tag)
    if tag == 0x44:  # D
        count, pos = _count(data, pos, 8)
        return list(struct.unpack_from(f"<{count}d", data, pos)), pos + 8 * count
    if tag == 0x49:  # I
        size, pos = _count(data, pos, 1)
        return int.from_bytes(data[pos:pos + size], "little", signed=True), pos + size
    if tag == 0x6F:  # o
        type_name, pos = _text(data, pos)
        text, pos = _text(data, pos)
        return Opaque(type_name, text), pos
    raise WireError(f"unknown tag {tag}")


def _parse_numpy(data, pos, tag):
    np, dtypes, _, _ = _NP or _numpy()
    code = data[pos]
    if code >= len(dtypes):
        raise WireError(f"refused dtype code {code}")
    dtype = dtypes[code]
    pos += 1
    if tag == 0x67:  # g: one scalar
        end = pos + dtype.itemsize
        if end > len(data):
            raise WireError("numpy scalar cut short")
        return np.frombuffer(data, dtype, 1, pos)[0], end
    if tag == 0x4C:  # L: a list of scalars
        count, pos = _count(data, pos, dtype.itemsize)
        return list(np.frombuffer(data, dtype, count, pos)), pos + count * dtype.itemsize
    ndim = data[pos]
    pos += 1
    if ndim > MAX_DIMS:
        raise WireError("array with too many dimensions")
    shape = struct.unpack_from(f"<{ndim}Q", data, pos)
    pos += 8 * ndim
    size = 1
    for n in shape:
        size *= n
    end = pos + size * dtype.itemsize
    if end > len(data):
        raise WireError("array data shorter than its shape")
    if size == 0:
        return np.zeros(shape, dtype), end
    # A copy: writable, aligned, and sharing nothing with the message.
    return np.frombuffer(data, dtype, size, pos).reshape(shape).copy(), end


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
            messages.append(unpack(body))

