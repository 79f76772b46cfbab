"""The wire format: every value kind round-trips, and bad frames are refused."""

from __future__ import annotations

import json
import math
import socket
import struct

import numpy as np
import pytest
import torch

from autograder.sandbox import protocol
from autograder.sandbox.decoding import DecodeContext, decode, facts
from autograder.sandbox.protocol import EncodeContext, ProtocolError, encode, recv_frame


def roundtrip(value, args=None):
    ctx = EncodeContext(args=args or {})
    tag = encode(value, ctx)
    tag = json.loads(json.dumps(tag))  # what really crosses: JSON text
    blobs = [bytearray(bytes(b)) for b in ctx.blobs]
    return decode(tag, DecodeContext(blobs))


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2**100, 1.5, -0.0, float("inf"), "héllo", b"\x00\xff", [1, [2, 3]], (1, "a"),
     {"a": 1, 2: (3.0,)}, torch.Size([2, 3]), slice(1, None, 2), Ellipsis, torch.float64, torch.device("cpu")],
)  # fmt: skip
def test_plain_values_roundtrip(value):
    """Python values come back equal and of exactly the same type."""
    out = roundtrip(value)
    assert type(out) is type(value)
    assert out == value


def test_nan_roundtrips():
    """NaN crosses as a float (JSON itself has no NaN)."""
    assert math.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", list(protocol.DTYPES.values()))
def test_tensors_of_every_dtype_roundtrip(dtype):
    """Every whitelisted dtype keeps its dtype, shape and values; the result is a plain Tensor."""
    t = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    out = roundtrip(t)
    assert type(out) is torch.Tensor
    assert out.dtype == dtype and out.shape == (3, 4)
    assert torch.equal(out, t)


@pytest.mark.parametrize("t", [torch.tensor(3.5), torch.empty(0, 4), torch.arange(20.0).reshape(4, 5).t()[1:, ::2]])
def test_scalar_empty_and_strided_tensors(t):
    """0-d, empty and non-contiguous tensors arrive with the same values."""
    out = roundtrip(t)
    assert out.shape == t.shape and torch.equal(out, t)


def test_non_contiguous_fact_travels():
    """Whether the original was contiguous is reported."""
    t = torch.arange(20.0).reshape(4, 5).t()
    assert facts(roundtrip(t)).is_contiguous is False
    assert facts(roundtrip(t.contiguous())).is_contiguous is True


def test_autograd_facts_travel():
    """requires_grad, is_leaf, grad_fn and a leaf's grad travel with a tensor."""
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    out_x, out_y = roundtrip(x), roundtrip(y)
    assert out_x.requires_grad and facts(out_x).is_leaf
    assert torch.equal(out_x.grad, torch.full((3,), 2.0))
    assert facts(out_y).is_leaf is False and facts(out_y).grad_fn == "MulBackward0"


def test_meta_tensor_roundtrips_without_bytes():
    """A meta tensor crosses as shape and dtype only."""
    out = roundtrip(torch.empty(2, 3, device="meta", dtype=torch.float16))
    assert out.device.type == "meta" and out.shape == (2, 3) and out.dtype == torch.float16


def test_parameter_arrives_as_plain_tensor():
    """An nn.Parameter is rebuilt as a plain torch.Tensor."""
    out = roundtrip(torch.nn.Parameter(torch.ones(2)))
    assert type(out) is torch.Tensor and out.requires_grad


def test_ndarray_and_numpy_scalars_roundtrip():
    """NumPy arrays and scalars keep dtype, shape and values."""
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = roundtrip(a)
    assert type(out) is np.ndarray and out.dtype == np.int32 and (out == a).all()
    s = roundtrip(np.float32(2.5))
    assert type(s) is np.float32 and s == 2.5


def test_sharing_with_arguments_is_reported():
    """A view of an argument reports the argument's path; a copy reports none."""
    arg = torch.arange(10.0)
    args = {"0": protocol.extent(arg)}
    assert facts(roundtrip(arg[2:5], args)).shares == {"0"}
    assert facts(roundtrip(arg[[1, 2]], args)).shares == frozenset()
    arr = arg.numpy()
    assert facts(roundtrip(arr, args)).shares == {"0"}


def test_objects_need_a_handle():
    """A non-value cannot be encoded without a handle table."""
    with pytest.raises(ProtocolError, match="cannot be sent"):
        encode(object(), EncodeContext())


def test_subclass_instances_are_not_values():
    """A tensor subclass or int subclass is never encoded as a value."""

    class Sub(torch.Tensor):
        pass

    class MyInt(int):
        pass

    handled = []
    ctx = EncodeContext(handle=lambda obj: handled.append(obj) or {"t": "handle", "id": 0})
    encode(torch.zeros(2).as_subclass(Sub), ctx)
    encode(MyInt(3), ctx)
    assert len(handled) == 2


@pytest.mark.parametrize(
    "tag, words",
    [
        ({"t": "pickle", "v": "x"}, "unknown value tag"),
        ({"t": "tensor", "dtype": "object", "shape": [1]}, "bad tensor dtype"),
        ({"t": "int", "v": 3}, "bad int"),
        ({"t": "tensor", "dtype": "float32", "shape": [2], "device": "cpu", "b": 0, "requires_grad": False,
          "is_leaf": True, "contiguous": True, "parameter": False, "grad_fn": None}, "does not match its bytes"),
        ({"t": "ndarray", "dtype": "float64", "shape": [-1], "b": 0}, "bad shape"),
        ({"t": "dict", "k": [{"t": "list", "v": []}], "v": [{"t": "none"}]}, "bad dict key"),
    ],
)  # fmt: skip
def test_decoder_refuses_bad_tags(tag, words):
    """Every field is checked; a lying or unknown tag is refused."""
    with pytest.raises(ProtocolError, match=words):
        decode(tag, DecodeContext([bytearray(4)]))


def test_deep_nesting_is_refused():
    tag = {"t": "none"}
    for _ in range(100):
        tag = {"t": "list", "v": [tag]}
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode(tag, DecodeContext([]))


def test_frames_roundtrip_and_oversize_is_refused_before_reading():
    """A frame over the cap is refused from its header, before its bytes are read."""
    a, b = socket.socketpair()
    protocol.send_frame(a, {"op": "x"}, [b"abc"])
    header, blobs = protocol.recv_frame(b, 100)
    assert header["op"] == "x" and blobs == [bytearray(b"abc")]
    raw = json.dumps({"blobs": [10**12]}).encode()
    a.sendall(struct.pack("!I", len(raw)) + raw)
    with pytest.raises(ProtocolError, match="over the"):
        protocol.recv_frame(b, 1 << 20)


def test_a_frame_larger_than_the_first_read_arrives_whole_however_it_is_split():
    """Header and blobs past the first read, sent in odd pieces, come back byte for byte."""
    import threading

    a, b = socket.socketpair()
    header = {"op": "x", "pad": "h" * 70_000}
    blobs = [bytes(range(256)) * 300, b"", b"tail"]
    raw = json.dumps(dict(header, blobs=[len(x) for x in blobs]), separators=(",", ":")).encode()
    wire = struct.pack("!I", len(raw)) + raw + b"".join(blobs)

    def send_in_pieces():
        for at in range(0, len(wire), 9_999):
            a.sendall(wire[at : at + 9_999])

    threading.Thread(target=send_in_pieces, daemon=True).start()
    got_header, got_blobs = protocol.recv_frame(b, 1 << 20)
    assert got_header["pad"] == header["pad"] and got_blobs == [bytearray(x) for x in blobs]


@pytest.mark.parametrize(
    "make",
    [lambda b: b.t(), lambda b: b.reshape(3, 4, 5).permute(2, 0, 1), lambda b: b[:, ::2], lambda b: b[:1].expand(6, 10)],
)
def test_layout_of_strided_tensors_is_kept(make):
    """A transposed, permuted, sliced or expanded tensor arrives with the same strides (view still fails on it)."""
    t = make(torch.arange(60.0).reshape(6, 10))
    out = roundtrip(t)
    assert torch.equal(out, t) and out.stride() == t.stride() and out.is_contiguous() == t.is_contiguous()


def test_lying_strides_are_refused():
    """Strides that reach outside the bytes sent are refused."""
    ctx = EncodeContext()
    tag = json.loads(json.dumps(encode(torch.arange(12.0).reshape(3, 4).t(), ctx)))
    tag["stride"] = [1, 100]
    with pytest.raises(ProtocolError, match="outside its span"):
        decode(tag, DecodeContext([bytearray(bytes(b)) for b in ctx.blobs]))


def test_an_expanded_tensor_is_bounded_by_its_size_once_rebuilt():
    """A stride-0 view is a few bytes on the wire and a terabyte once used: refused before it is built."""
    ctx = EncodeContext()
    tag = encode(torch.zeros(1).expand(2**40), ctx)
    assert sum(len(b) for b in ctx.blobs) <= 8
    with pytest.raises(ProtocolError, match="more memory than the reply cap"):
        decode(tag, DecodeContext(ctx.blobs, budget=256 << 20))


def test_strings_and_items_count_against_the_budget():
    ctx = EncodeContext()
    tag = encode(["x" * 1000] * 100, ctx)
    assert decode(tag, DecodeContext(ctx.blobs, budget=1 << 20)) == ["x" * 1000] * 100
    with pytest.raises(ProtocolError):
        decode(tag, DecodeContext(ctx.blobs, budget=50_000))


def test_a_header_nested_too_deeply_for_json_is_refused():
    import socket
    import struct

    a, b = socket.socketpair()
    raw = b"[" * 100_000 + b"]" * 100_000
    a.sendall(struct.pack("!I", len(raw)) + raw)
    with pytest.raises(ProtocolError, match="nested too deeply"):
        recv_frame(b, 1 << 20)


def test_one_deadline_covers_a_whole_frame():
    """A frame that trickles in a byte at a time is cut at the call's deadline, not per byte."""
    import socket
    import struct
    import threading
    import time

    a, b = socket.socketpair()

    def trickle():
        a.sendall(struct.pack("!I", 40))
        for _ in range(40):
            time.sleep(0.1)
            try:
                a.sendall(b" ")
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        recv_frame(b, 1 << 20, deadline=time.monotonic() + 1.0)
    assert time.monotonic() - start < 2.0
    b.close()
