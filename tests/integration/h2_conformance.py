#!/usr/bin/python3
"""HTTP/2 conformance and abuse cases against a running gatewayd (h2c with prior knowledge).

Frame-level cases in the spirit of h2spec, and the known HTTP/2 attacks (Rapid Reset,
CONTINUATION flood, HPACK-amplified header block, PING and SETTINGS floods, zero-window stall,
slow read). Each case asserts the gateway's exact answer (GOAWAY error code, RST_STREAM code or
status) and then that a normal request on a new connection still succeeds.

Built on Debian's python3-h2 / hyperframe / hpack. Driven by h2_conformance_it_test.cc, which
starts gatewayd with the limits these cases rely on (see kConfig there):

    h2_conformance.py --port PORT --case NAME [--pid PID]
    h2_conformance.py --list
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL = 0x5, 0x6, 0x7, 0x8
COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x9, 0xB

PORT = 0
PID = 0


class CaseFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CaseFailed(msg)


# ---------------------------------------------------------------------------------------------
# A raw frame client


class Raw:
    def __init__(self, rcvbuf=0, settings=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(("127.0.0.1", PORT))
        self.s.settimeout(5)
        self.buf = b""
        self.closed = False
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()  # one per connection: every header block, in order
        self.dec.max_allowed_table_size = 65536
        self.dec.max_header_list_size = 1 << 20
        self.frames = []  # everything received, in order
        self.pending = []  # received, not yet matched by expect()

    def send(self, data):
        self.s.sendall(data)

    def start(self, settings=None):
        f = SettingsFrame(0)
        if settings:
            f.settings = settings
        self.send(PREFACE + f.serialize())

    def frame(self, f):
        self.send(f.serialize())

    def headers(self, stream_id, fields, end_stream=True, end_headers=True):
        # A block over the default SETTINGS_MAX_FRAME_SIZE goes out as HEADERS + CONTINUATIONs.
        block = self.enc.encode(fields)
        pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)] or [b""]
        f = HeadersFrame(stream_id)
        f.data = pieces[0]
        if end_stream:
            f.flags.add("END_STREAM")
        if len(pieces) == 1 and end_headers:
            f.flags.add("END_HEADERS")
        out = f.serialize()
        for i, p in enumerate(pieces[1:]):
            c = ContinuationFrame(stream_id, data=p)
            if i == len(pieces) - 2 and end_headers:
                c.flags.add("END_HEADERS")
            out += c.serialize()
        self.send(out)

    def request(self, stream_id, path="/api/ok", method="GET", extra=(), end_stream=True):
        fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "x")] + list(extra)
        self.headers(stream_id, fields, end_stream)

    def _fill(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
            return False
        if not d:
            self.closed = True
            return False
        self.buf += d
        return True

    def next_frame(self, timeout=5.0):
        """The next frame, or None on timeout / close."""
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 9:
                f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) >= 9 + length:
                    f.parse_body(memoryview(self.buf[9:9 + length]))
                    self.buf = self.buf[9 + length:]
                    if isinstance(f, HeadersFrame):
                        f.decoded = dict(self.dec.decode(f.data))
                    self.frames.append(f)
                    return f
            left = deadline - time.time()
            if left <= 0 or self.closed:
                return None
            if not self._fill(min(left, 1.0)):
                if self.closed:
                    return None

    def expect(self, pred, what, timeout=5.0):
        """The first received frame (earlier unmatched ones included) satisfying pred."""
        for i, f in enumerate(self.pending):
            if pred(f):
                del self.pending[i]
                return f
        deadline = time.time() + timeout
        while time.time() < deadline:
            f = self.next_frame(deadline - time.time())
            if f is None:
                break
            if pred(f):
                return f
            if len(self.pending) < 100000:
                self.pending.append(f)
        raise CaseFailed("expected %s; got %s%s" % (what, [summary(f) for f in self.frames[-8:]],
                                                     " (connection closed)" if self.closed else ""))

    def expect_goaway(self, code, timeout=5.0):
        f = self.expect(lambda f: isinstance(f, GoAwayFrame), "GOAWAY", timeout)
        check(f.error_code == code, "GOAWAY error %#x, expected %#x (%s)" % (f.error_code, code, f.additional_data))
        return f

    def expect_rst(self, stream_id, code, timeout=5.0):
        f = self.expect(lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)) and
                        (isinstance(f, GoAwayFrame) or f.stream_id == stream_id), "RST_STREAM", timeout)
        check(isinstance(f, RstStreamFrame), "got GOAWAY %#x instead of RST_STREAM" % getattr(f, "error_code", -1))
        check(f.error_code == code, "RST_STREAM error %#x, expected %#x" % (f.error_code, code))
        return f

    def expect_status(self, stream_id, timeout=5.0):
        while True:
            f = self.expect(lambda f: (isinstance(f, HeadersFrame) and f.stream_id == stream_id) or
                            isinstance(f, (GoAwayFrame, RstStreamFrame)), "response HEADERS", timeout)
            check(isinstance(f, HeadersFrame), "got %s instead of a response (%s)" % (summary(f), [summary(x) for x in self.frames[-8:]]))
            headers = f.decoded
            check(":status" in headers, "HEADERS without :status on stream %d: %r" % (stream_id, headers))
            status = int(headers[":status"])
            if status >= 200:
                return status, headers

    def expect_closed(self, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline and not self.closed:
            if len(self.buf) > (4 << 20):
                self.buf = self.buf[-65536:]  # not parsed: only waiting for the close
            self._fill(min(1.0, deadline - time.time()))
        check(self.closed, "the connection is still open after %.1f s" % timeout)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def summary(f):
    if isinstance(f, GoAwayFrame):
        return "GOAWAY(last=%d, err=%#x)" % (f.last_stream_id, f.error_code)
    if isinstance(f, RstStreamFrame):
        return "RST_STREAM(%d, err=%#x)" % (f.stream_id, f.error_code)
    return "%s(%d, %s)" % (type(f).__name__, f.stream_id, ",".join(sorted(f.flags)))


def normal_request(path="/api/after"):
    """A complete GET over a fresh h2c connection with python-h2: the gateway still serves."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    c.initiate_connection()
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "x")],
                   end_stream=True)
    s.sendall(c.data_to_send())
    status, body, done = None, b"", False
    deadline = time.time() + 5
    while not done and time.time() < deadline:
        d = s.recv(65536)
        if not d:
            break
        for ev in c.receive_data(d):
            if isinstance(ev, h2.events.ResponseReceived):
                status = int(dict(ev.headers)[":status"])
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                done = True
        s.sendall(c.data_to_send())
    s.close()
    check(done and status == 200, "normal request after the case: status %s, complete %s" % (status, done))
    check(path.encode() in body, "normal request: unexpected body %r" % body[:200])


# ---------------------------------------------------------------------------------------------
# Frame-level cases (h2spec-like)

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def preface_then_not_settings():
    c = Raw()
    c.send(PREFACE + PingFrame(0, opaque_data=b"12345678").serialize())
    c.expect_goaway(PROTOCOL_ERROR)


@case
def bad_preface_is_http1():
    # Cleartext ports share HTTP/1.1 and h2c: a preface that departs from the real one is
    # HTTP/1.x, and a broken request line at that.
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    data = s.recv(65536)
    s.close()
    check(data.startswith(b"HTTP/1.1 400") or data.startswith(b"HTTP/1.1 505"), "got %r" % data[:60])


@case
def data_on_idle_stream():
    c = Raw()
    c.start()
    f = DataFrame(1, data=b"x")
    c.frame(f)
    c.expect_goaway(PROTOCOL_ERROR)


@case
def headers_on_even_stream():
    c = Raw()
    c.start()
    c.request(2)
    c.expect_goaway(PROTOCOL_ERROR)


@case
def data_on_closed_stream():
    # DATA after the stream closed (both sides ended): nghttp2 cannot tell it from a frame in
    # flight and drops it (its connection window is still credited); the connection serves on.
    c = Raw()
    c.start()
    c.request(1)
    status, _ = c.expect_status(1)
    check(status == 200, "status %d" % status)
    c.expect(lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags, "end of the response")
    f = DataFrame(1, data=b"late")
    f.flags.add("END_STREAM")
    c.frame(f)
    c.request(3)
    status, _ = c.expect_status(3)
    check(status == 200, "status %d" % status)
    check(not any(isinstance(f, (GoAwayFrame, RstStreamFrame)) for f in c.frames), "unexpected error frame")


@case
def stream_id_going_backwards():
    # nghttp2 cannot tell a lower new stream id from a stream it already forgot, and ignores the
    # block (documented in nghttp2_session_on_request_headers_received); stream 5 is served and
    # stream 3 never gets an answer.
    c = Raw()
    c.start()
    c.request(5, path="/api/sleep?ms=200")
    c.request(3)
    status, _ = c.expect_status(5)
    check(status == 200, "status %d" % status)
    c.expect(lambda f: isinstance(f, DataFrame) and f.stream_id == 5 and "END_STREAM" in f.flags, "end of stream 5")
    f = c.next_frame(0.5)
    check(f is None or f.stream_id != 3, "stream 3 was answered: %s" % (f and summary(f)))


@case
def missing_path_pseudo_header():
    c = Raw()
    c.start()
    c.headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x")])
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def unknown_pseudo_header():
    c = Raw()
    c.start()
    c.request(1, extra=[(":foo", "bar")])
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def pseudo_header_after_regular():
    c = Raw()
    c.start()
    c.headers(1, [(":method", "GET"), (":scheme", "http"), ("accept", "*/*"), (":path", "/api/x"),
                  (":authority", "x")])
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def duplicate_pseudo_header():
    c = Raw()
    c.start()
    c.request(1, extra=[(":path", "/api/again")])
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def uppercase_header_name():
    c = Raw()
    c.start()
    c.request(1, extra=[("X-Upper", "1")])
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def connection_specific_header():
    for name, value in (("connection", "keep-alive"), ("keep-alive", "5"), ("transfer-encoding", "chunked"),
                        ("upgrade", "h2c"), ("proxy-connection", "x"), ("te", "gzip")):
        c = Raw()
        c.start()
        c.request(1, extra=[(name, value)])
        c.expect_rst(1, PROTOCOL_ERROR)
        c.close()
    # TE: trailers is the one allowed value.
    c = Raw()
    c.start()
    c.request(1, extra=[("te", "trailers")])
    status, _ = c.expect_status(1)
    check(status == 200, "te: trailers: status %d" % status)


@case
def content_length_mismatch():
    c = Raw()
    c.start()
    c.request(1, path="/api/cl", method="POST", extra=[("content-length", "10")], end_stream=False)
    f = DataFrame(1, data=b"12345")
    f.flags.add("END_STREAM")
    c.frame(f)
    c.expect_rst(1, PROTOCOL_ERROR)


@case
def connection_window_overflow():
    c = Raw()
    c.start()
    c.frame(WindowUpdateFrame(0, window_increment=0x7FFFFFFF))
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case
def stream_window_overflow():
    c = Raw()
    c.start()
    c.request(1, path="/api/sleep?ms=500")
    c.frame(WindowUpdateFrame(1, window_increment=0x7FFFFFFF))
    c.expect_rst(1, FLOW_CONTROL_ERROR)


@case
def window_update_zero_increment():
    c = Raw()
    c.start()
    c.frame(WindowUpdateFrame(0, window_increment=0))
    c.expect_goaway(PROTOCOL_ERROR)


@case
def settings_initial_window_too_large():
    c = Raw()
    c.start(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0x80000000})
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case
def settings_enable_push_invalid():
    c = Raw()
    c.start(settings={SettingsFrame.ENABLE_PUSH: 2})
    c.expect_goaway(PROTOCOL_ERROR)


@case
def settings_max_frame_size_too_small():
    c = Raw()
    c.start(settings={SettingsFrame.MAX_FRAME_SIZE: 1000})
    c.expect_goaway(PROTOCOL_ERROR)


@case
def settings_bad_length():
    c = Raw()
    c.send(PREFACE + b"\x00\x00\x05\x04\x00\x00\x00\x00\x00" + b"\x00\x03\x00\x00\x00")
    c.expect_goaway(FRAME_SIZE_ERROR)


@case
def settings_ack_with_payload():
    c = Raw()
    c.start()
    c.send(b"\x00\x00\x06\x04\x01\x00\x00\x00\x00" + b"\x00\x03\x00\x00\x00\x64")
    c.expect_goaway(FRAME_SIZE_ERROR)


@case
def settings_on_a_stream():
    c = Raw()
    c.start()
    c.send(b"\x00\x00\x00\x04\x00\x00\x00\x00\x01")
    c.expect_goaway(PROTOCOL_ERROR)


@case
def too_many_settings_entries():
    c = Raw()
    payload = b"".join(struct.pack("!HI", 0x3, 100) for _ in range(40))  # max_settings: 32
    c.send(PREFACE + struct.pack("!I", len(payload))[1:] + b"\x04\x00\x00\x00\x00\x00" + payload)
    c.expect_goaway(ENHANCE_YOUR_CALM)


@case
def concurrent_streams_limit():
    # max_concurrent_streams: 10 (test config). Before the client ACKs our SETTINGS, the 11th
    # stream is refused (RST_STREAM REFUSED_STREAM, retryable) and the others are served.
    c = Raw()
    c.start()
    for i in range(11):
        c.request(1 + 2 * i, path="/api/sleep?ms=300")
    c.expect_rst(21, REFUSED_STREAM)
    for i in range(10):
        status, _ = c.expect_status(1 + 2 * i)
        check(status == 200, "stream %d: status %d" % (1 + 2 * i, status))
    c.close()
    # After the ACK, nghttp2 treats the excess stream as a connection error (PROTOCOL_ERROR).
    c = Raw()
    c.start()
    c.expect(lambda f: isinstance(f, SettingsFrame) and "ACK" not in f.flags, "server SETTINGS")
    ack = SettingsFrame(0)
    ack.flags.add("ACK")
    c.frame(ack)
    c.expect(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags, "SETTINGS ACK")
    for i in range(11):
        c.request(1 + 2 * i, path="/api/sleep?ms=300")
    c.expect_goaway(PROTOCOL_ERROR)


@case
def header_list_too_large_is_431():
    c = Raw()
    c.start()
    c.request(1, extra=[("x-big-%d" % i, "v" * 1000) for i in range(70)])  # 70 KB > 64 KiB
    status, headers = c.expect_status(1)
    check(status == 431, "status %d" % status)
    c.request(3, extra=[("x-f%d" % i, "1") for i in range(120)])  # 124 fields > 100
    status, _ = c.expect_status(3)
    check(status == 431, "status %d" % status)
    c.request(5)  # the connection is still usable
    status, _ = c.expect_status(5)
    check(status == 200, "status %d" % status)


def body_before_trailers():
    """A connection with stream 1 open: a POST to /api/trailers and a body, the request not ended."""
    c = Raw()
    c.start()
    c.request(1, path="/api/trailers", method="POST", end_stream=False)
    c.frame(DataFrame(1, data=b"hello"))
    return c


@case
def request_and_response_trailers():
    c = body_before_trailers()
    c.headers(1, [("x-req-trailer", "1")], end_stream=True)
    status, _ = c.expect_status(1)
    check(status == 200, "status %d" % status)
    # Response trailers from an HTTP/1.1 chunked upstream arrive as a trailing HEADERS frame.
    c.request(3, path="/bad/resp-trailers")
    status, _ = c.expect_status(3)
    check(status == 200, "status %d" % status)
    f = c.expect(lambda f: isinstance(f, HeadersFrame) and f.stream_id == 3, "trailers HEADERS")
    check("END_STREAM" in f.flags, "trailers without END_STREAM")
    check(f.decoded.get("x-checksum") == "abc" and f.decoded.get("x-more") == "1", "trailers %r" % f.decoded)


# ---------------------------------------------------------------------------------------------
# Attacks


@case
def rapid_reset():
    # HEADERS + RST_STREAM pairs, far past reset_burst (50 in the test config).
    c = Raw()
    c.start()
    out = b""
    for i in range(400):
        sid = 1 + 2 * i
        h = HeadersFrame(sid)
        h.data = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/api/rr"), (":authority", "x")])
        h.flags.add("END_HEADERS")
        h.flags.add("END_STREAM")
        out += h.serialize() + RstStreamFrame(sid, error_code=CANCEL).serialize()
    try:
        c.send(out)
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.expect_goaway(INTERNAL_ERROR)


@case
def continuation_flood():
    c = Raw()
    c.start()
    h = HeadersFrame(1)
    h.data = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/api/cf"), (":authority", "x")])
    c.frame(h)  # no END_HEADERS
    try:
        for i in range(100):
            c.frame(ContinuationFrame(1, data=c.enc.encode([("x-c%d" % i, "y")])))
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM)


@case
def hpack_amplified_header_block():
    # One 4 KB value enters the dynamic table, then ~one byte per reference repeats it: a header
    # block of a few hundred bytes that decodes to megabytes. Refused with 431 at 64 KiB.
    c = Raw()
    c.start()
    enc = c.enc
    first = enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/api/amp"), (":authority", "x"),
                        ("x-amp", "a" * 4000)])
    refs = bytes([0x80 | 62]) * 1000  # indexed field: the newest dynamic table entry
    h = HeadersFrame(1)
    h.data = first + refs
    h.flags.add("END_HEADERS")
    h.flags.add("END_STREAM")
    check(len(h.data) < 6000, "block is %d bytes" % len(h.data))
    c.frame(h)
    status, _ = c.expect_status(1)
    check(status == 431, "status %d" % status)


@case
def ping_flood():
    c = Raw(rcvbuf=4096)
    c.start()
    ping = PingFrame(0, opaque_data=b"12345678").serialize()
    try:
        c.s.settimeout(10)
        for _ in range(100):
            c.send(ping * 1000)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case
def settings_flood():
    c = Raw(rcvbuf=4096)
    c.start()
    s = SettingsFrame(0)
    s.settings = {SettingsFrame.MAX_CONCURRENT_STREAMS: 100}
    one = s.serialize()
    try:
        c.s.settimeout(10)
        for _ in range(100):
            c.send(one * 1000)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case
def glitch_limit():
    # Malformed requests, each a stream error; past max_glitches (20) the connection goes. Sent a
    # little apart: a burst read in one go would have later streams refused (REFUSED_STREAM, not a
    # glitch) while the earlier streams' resets are still queued.
    c = Raw()
    c.start()
    try:
        for i in range(40):
            c.request(1 + 2 * i, extra=[("connection", "close")])
            time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM)


@case
def zero_window_stall():
    # The client never opens its window: the response waits in the gateway (bounded) until the
    # per-stream stall timeout (timeouts.send: 2s) resets the stream; the idle connection then
    # goes (http2.idle_timeout: 2s).
    c = Raw()
    c.start(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    c.request(1, path="/api/stream?n=10000000")
    status, _ = c.expect_status(1)
    check(status == 200, "status %d" % status)
    t0 = time.time()
    c.expect_rst(1, CANCEL, timeout=8)
    check(time.time() - t0 >= 1.0, "reset too early")
    c.expect_goaway(NO_ERROR, timeout=6)
    c.expect_closed(timeout=3)


@case
def header_block_timeout():
    # HEADERS without END_HEADERS, then silence: timeouts.client_header (1s in the test config)
    # ends the connection, although a stream is open.
    expect_header_timeout(lambda h: h.serialize())  # no END_HEADERS, no CONTINUATION


@case
def header_frame_cut_short_times_out():
    # A complete-looking HEADERS frame (END_HEADERS) of which only part arrives, then silence: the
    # block is open after that read, so timeouts.client_header still ends the connection.
    def half(h):
        h.flags.add("END_HEADERS")
        h.flags.add("END_STREAM")
        return h.serialize()[:9 + len(h.data) // 2]  # the frame header and half the block
    expect_header_timeout(half)


@case
def continuation_trickle_is_not_extended():
    # A header block trickled in CONTINUATIONs, one fragment every 0.3 s: client_header counts
    # from the block's first read and is not pushed back by each fragment.
    c = Raw()
    c.start()
    block = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/api/trickle"), (":authority", "x"),
                          ("x-pad", "p" * 64)])
    h = HeadersFrame(1)
    h.data = block[:4]
    t0 = time.time()
    c.frame(h)  # no END_HEADERS
    goaway = None
    for i in range(4, min(len(block), 4 + 7)):  # 7 fragments (max_continuations is 8), ~2.1 s; none ends it
        try:  # 0.3 s between fragments, watching for the GOAWAY
            goaway = c.expect(lambda f: isinstance(f, GoAwayFrame), "GOAWAY", timeout=0.3)
            break
        except CaseFailed:
            if c.closed:
                break
        c.frame(ContinuationFrame(1, data=block[i:i + 1]))
    if goaway is None:
        goaway = c.expect_goaway(NO_ERROR, timeout=6)
    took = time.time() - t0
    check(goaway.error_code == NO_ERROR, "GOAWAY error %#x" % goaway.error_code)
    check(0.5 <= took < 2.5, "GOAWAY after %.1f s (client_header 1s, not extended by fragments)" % took)


@case
def trailer_block_cut_short_times_out():
    # A request body, then half a trailer HEADERS frame and silence: the trailer block is under
    # client_header (1s), not the body's idle timer (client_body: 5s for this case).
    c = body_before_trailers()
    h = HeadersFrame(1)
    h.data = c.enc.encode([("x-req-trailer", "1")])
    h.flags.add("END_HEADERS")
    h.flags.add("END_STREAM")
    t0 = time.time()
    c.send(h.serialize()[:9 + len(h.data) // 2])
    c.expect_goaway(NO_ERROR, timeout=8)
    took = time.time() - t0
    check(0.5 <= took < 3.5, "GOAWAY after %.1f s (client_header 1s, client_body 5s)" % took)


@case
def paused_before_head_is_not_a_timeout():
    # Stream 1 waits for a head that comes 0.5 s late (/bad/late-ok; the upstream's response_timeout
    # is 1s). Meanwhile four 2 MB downloads the client does not read (no WINDOW_UPDATE) fill the
    # connection's response budget, which pauses every stream, stream 1 included, before its head
    # is read. Resetting the downloads 2.5 s later lifts the pause: stream 1 gets its 200, not a
    # 504 for a wait that was ours.
    paused_before_head("/bad/late-ok")


@case
def paused_before_head_is_not_a_timeout_fcgi():
    # The same through a FastCGI upstream (fcgi_peer.py answers /delay after 300 ms; the test sets
    # its response_timeout to 1s).
    paused_before_head("/fcgi/delay")


def paused_before_head(path):
    c = Raw()
    c.start()
    c.request(1, path=path)
    for sid in (3, 5, 7, 9):
        c.request(sid, path="/api/stream?n=2000000")
    time.sleep(2.5)
    for sid in (3, 5, 7, 9):
        c.frame(RstStreamFrame(sid, error_code=CANCEL))
    status, _ = c.expect_status(1, timeout=5)
    check(status == 200, "stream 1: status %d after the pause (a response_timeout counted while paused?)" % status)


def expect_header_timeout(wire):
    """Sends wire(HEADERS frame of a GET) and nothing more: GOAWAY(NO_ERROR) after client_header."""
    c = Raw()
    c.start()
    h = HeadersFrame(1)
    h.data = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/api/slow-head"), (":authority", "x")])
    c.send(wire(h))
    t0 = time.time()
    c.expect_goaway(NO_ERROR, timeout=6)
    check(time.time() - t0 >= 0.5, "GOAWAY too early")
    c.expect_closed(timeout=4)


@case
def body_timeout_is_408():
    # A request body that stops coming: timeouts.client_body (1s, idle) answers 408.
    c = Raw()
    c.start()
    c.request(1, path="/api/slow-body", method="POST", extra=[("content-length", "100")], end_stream=False)
    c.frame(DataFrame(1, data=b"x" * 10))
    time.sleep(0.6)
    c.frame(DataFrame(1, data=b"y" * 10))  # progress re-arms the idle timer
    t0 = time.time()
    status, headers = c.expect_status(1, timeout=6)
    check(status == 408, "status %d" % status)
    check(headers.get("content-type") == "application/problem+json", "headers %r" % headers)
    check(time.time() - t0 >= 0.5, "408 too early")
    c.expect_rst(1, NO_ERROR)  # the rest of the body is not wanted (RFC 9113 §8.1)
    c.request(3)  # the connection still serves
    status, _ = c.expect_status(3)
    check(status == 200, "status %d" % status)


@case
def scheme_from_connection():
    # An h2c client claiming :scheme https: the upstream sees the truth (X-Forwarded-Proto: http).
    c = Raw()
    c.start()
    c.headers(1, [(":method", "GET"), (":scheme", "https"), (":path", "/api/scheme"), (":authority", "x")])
    status, _ = c.expect_status(1)
    check(status == 200, "status %d" % status)
    body = b""
    while True:
        f = c.expect(lambda f: isinstance(f, DataFrame) and f.stream_id == 1, "response DATA")
        body += f.data
        if "END_STREAM" in f.flags:
            break
    echo = json.loads(body)
    check(echo["headers"].get("x-forwarded-proto") == "http", "upstream saw %r" % echo["headers"])


@case
def host_case_insensitive():
    # Host and :authority naming the same host in different case: not a mismatch.
    c = Raw()
    c.start()
    c.headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/api/host"), (":authority", "x"),
                  ("host", "X")])
    status, _ = c.expect_status(1)
    check(status == 200, "status %d" % status)


@case
def headers_only_response_completes():
    # A 304 given by a FastCGI application: the head, and the end of the response a moment later.
    # The stream closes after the HEADERS (END_STREAM); the gateway must treat that as completion
    # (the C++ side checks the access log and that the peer saw no ABORT).
    c = Raw()
    c.start()
    c.request(1, path="/fcgi/not-modified-slow")
    f = c.expect(lambda f: isinstance(f, HeadersFrame) and f.stream_id == 1, "response HEADERS")
    check(f.decoded.get(":status") == "304", "status %r" % f.decoded)
    check("END_STREAM" in f.flags, "304 without END_STREAM")
    time.sleep(0.8)  # the end comes from the peer after 300 ms
    c.request(3)
    status, _ = c.expect_status(3)
    check(status == 200, "status %d" % status)


@case
def slow_read():
    # The client does not read its socket: the send timeout (2s) closes the connection.
    c = Raw(rcvbuf=4096)
    c.start()
    big = WindowUpdateFrame(0, window_increment=0x7FFFFFFF - 65535).serialize()
    s = SettingsFrame(0)
    s.settings = {SettingsFrame.INITIAL_WINDOW_SIZE: 0x7FFFFFFF}
    c.send(s.serialize() + big)
    c.request(1, path="/api/stream?n=200000000")
    time.sleep(6)  # not reading
    c.expect_closed(timeout=10)


@case
def idle_timeout():
    c = Raw()
    c.start()
    c.expect_goaway(NO_ERROR, timeout=6)  # http2.idle_timeout: 2s
    c.expect_closed(timeout=3)


@case
def graceful_shutdown():
    # Needs --pid: SIGTERM while a request is in flight. Two GOAWAY frames (2^31-1, then the
    # real last stream), the in-flight response completes, then the connection closes.
    check(PID > 0, "needs --pid")
    c = Raw()
    c.start()
    c.request(1, path="/api/sleep?ms=2500")
    time.sleep(0.3)
    os.kill(PID, signal.SIGTERM)
    g1 = c.expect(lambda f: isinstance(f, GoAwayFrame), "first GOAWAY")
    check(g1.last_stream_id == 0x7FFFFFFF and g1.error_code == NO_ERROR, "first GOAWAY %s" % summary(g1))
    g2 = c.expect(lambda f: isinstance(f, GoAwayFrame), "second GOAWAY", timeout=5)
    check(g2.last_stream_id == 1 and g2.error_code == NO_ERROR, "second GOAWAY %s" % summary(g2))
    status, _ = c.expect_status(1, timeout=5)
    check(status == 200, "in-flight request: status %d" % status)
    c.expect(lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags, "end of the in-flight response")
    c.expect_closed(timeout=5)


NO_FOLLOW_UP = {"graceful_shutdown"}


def main():
    global PORT, PID
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--case")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CASES))
        return 0
    PORT, PID = a.port, a.pid
    names = [a.case] if a.case else [n for n in CASES if n not in NO_FOLLOW_UP]
    failed = 0
    for name in names:
        try:
            CASES[name]()
            if name not in NO_FOLLOW_UP:
                normal_request("/api/after-" + name)
            print("ok", name)
        except Exception as e:  # report every case, keep going
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
