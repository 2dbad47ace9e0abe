#!/usr/bin/python3
"""A small FastCGI application server for the tests that need to see records (the real peers,
uWSGI and php-fpm, cannot show them): it logs every BEGIN_REQUEST / ABORT_REQUEST / GET_VALUES
it receives and multiplexes (answers FCGI_MPXS_CONNS=1, FCGI_MAX_REQS=8).

Usage: fcgi_peer.py PORT LOGFILE
Paths (PATH_INFO suffix): /delay (answer after 300 ms), /hold (never answers, waits for ABORT),
/garbage (a record with version 7), /short (Content-Length 10, 3 bytes, END_REQUEST),
/not-modified (Status: 304 with Content-Length 1234, no body), /not-modified-slow (a 304 head, the
empty STDOUT and END_REQUEST 300 ms later), /hold-deaf (never answers and
ignores ABORT: no END_REQUEST), /redir-dots, /redir-out, /redir-ok (local redirects: Location
/peer/a/%2e%2e/b, /fcgi-tcp/x, /peer/ok?from=redir), /redir-early (Location: /peer/delay as soon
as PARAMS end, before reading STDIN), /drop-if-kept (on a connection that already served a request:
close it without an answer once STDIN ends, as a worker that does not keep connections does just as
the gateway reuses one),
anything else: "id=<request id> conn=<connection no> stdin=<bytes>".
Log lines: "GET_VALUES conn=C", "BEGIN conn=C id=I flags=F", "PATH conn=C id=I path=P",
"ABORT conn=C id=I", "DROP conn=C id=I", "STDIN_END conn=C id=I n=N", "STDIN_AFTER_END conn=C id=I" (a STDIN record
after the request's empty STDIN record), "CLOSE conn=C".
"""
import asyncio
import struct
import sys

LOG = None
CONN_NO = 0


def log(line):
    LOG.write(line + "\n")
    LOG.flush()


def record(rtype, rid, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), pad, 0) + content + b"\0" * pad


def nv(name, value):
    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(name)) + ln(len(value)) + name + value


def parse_params(data):
    out, i = {}, 0
    while i < len(data):
        lens = []
        for _ in range(2):
            if data[i] & 0x80:
                lens.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7fffffff)
                i += 4
            else:
                lens.append(data[i])
                i += 1
        n, v = data[i:i + lens[0]], data[i + lens[0]:i + lens[0] + lens[1]]
        i += lens[0] + lens[1]
        out[n.decode()] = v.decode("latin-1")
    return out


def end_request(rid):
    return record(3, rid, struct.pack(">IB3x", 0, 0))


async def handle(reader, writer):
    global CONN_NO
    CONN_NO += 1
    conn = CONN_NO
    reqs = {}
    ended = set()  # request ids whose empty STDIN record arrived
    deaf = set()   # request ids whose ABORT goes unanswered
    served = 0

    async def respond(rid, req):
        nonlocal served
        served += 1
        path = req["params"].get("PATH_INFO", "")
        if path.endswith("/hold"):
            return
        if path.endswith("/hold-deaf"):
            deaf.add(rid)
            return
        if path.endswith("/delay"):
            await asyncio.sleep(0.3)
        if path.endswith("/garbage"):
            writer.write(b"\x07\x06\x00\x01\x00\x04\x00\x00junk")
        elif path.endswith("/not-modified-slow"):  # the head, then the end of the response 300 ms later
            writer.write(record(6, rid, b"Status: 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"))
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.write(record(6, rid) + end_request(rid))
        elif path.endswith("/not-modified"):
            writer.write(record(6, rid, b"Status: 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"v1\"\r\n\r\n") +
                         record(6, rid) + end_request(rid))
        elif path.endswith(("/redir-dots", "/redir-out", "/redir-ok", "/redir-early")):
            loc = {"/redir-dots": b"/peer/a/%2e%2e/b", "/redir-out": b"/fcgi-tcp/x", "/redir-ok": b"/peer/ok?from=redir",
                   "/redir-early": b"/peer/delay"}[path[path.rfind("/"):]]
            writer.write(record(6, rid, b"Location: " + loc + b"\r\n\r\n") + record(6, rid) + end_request(rid))
        elif path.endswith("/short"):
            writer.write(record(6, rid, b"Content-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc") + record(6, rid) +
                         end_request(rid))
        else:
            body = ("id=%d conn=%d stdin=%d\n" % (rid, conn, req["stdin"])).encode()
            head = b"Status: 200 OK\r\nContent-Type: text/plain\r\nX-Conn: %d\r\nContent-Length: %d\r\n\r\n" % (conn, len(body))
            writer.write(record(6, rid, head + body) + record(6, rid) + end_request(rid))
        reqs.pop(rid, None)
        await writer.drain()

    try:
        while True:
            hdr = await reader.readexactly(8)
            ver, rtype, rid, clen, plen, _ = struct.unpack(">BBHHBB", hdr)
            content = await reader.readexactly(clen + plen)
            content = content[:clen]
            if rtype == 9:
                log("GET_VALUES conn=%d" % conn)
                writer.write(record(10, 0, nv(b"FCGI_MPXS_CONNS", b"1") + nv(b"FCGI_MAX_REQS", b"8")))
            elif rtype == 1:
                log("BEGIN conn=%d id=%d flags=%d" % (conn, rid, content[2]))
                reqs[rid] = {"params": b"", "stdin": 0}
                ended.discard(rid)
                deaf.discard(rid)
            elif rtype == 4 and rid in reqs:
                if clen:
                    reqs[rid]["params"] += content
                else:
                    reqs[rid]["params"] = parse_params(reqs[rid]["params"])
                    path = reqs[rid]["params"].get("PATH_INFO", "")
                    log("PATH conn=%d id=%d path=%s" % (conn, rid, path))
                    if path.endswith("/redir-early"):
                        asyncio.ensure_future(respond(rid, reqs[rid]))
            elif rtype == 5 and rid in ended:
                log("STDIN_AFTER_END conn=%d id=%d" % (conn, rid))
            elif rtype == 5 and rid in reqs:
                if clen:
                    reqs[rid]["stdin"] += clen
                else:
                    log("STDIN_END conn=%d id=%d n=%d" % (conn, rid, reqs[rid]["stdin"]))
                    ended.add(rid)
                    if reqs[rid]["params"].get("PATH_INFO", "").endswith("/drop-if-kept") and served > 0:
                        log("DROP conn=%d id=%d" % (conn, rid))
                        writer.transport.abort()
                        break
                    if not reqs[rid]["params"].get("PATH_INFO", "").endswith("/redir-early"):
                        asyncio.ensure_future(respond(rid, reqs[rid]))
            elif rtype == 2:
                log("ABORT conn=%d id=%d" % (conn, rid))
                reqs.pop(rid, None)
                if rid not in deaf:
                    writer.write(end_request(rid))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    log("CLOSE conn=%d" % conn)
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    LOG = open(sys.argv[2], "a")
    asyncio.run(main())
