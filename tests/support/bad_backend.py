"""A misbehaving HTTP/1.1 backend for the gatewayd integration tests (raw sockets, one thread per
connection). Listens on 127.0.0.1:0 and prints "PORT <n>" on stdout once ready. Every request
line's path is appended to $GW_RECORD_FILE. Behaviour by path:
  /reset        200 with Content-Length: 1000000, 1000 body bytes, then a TCP reset
  /reset-chunked  200 chunked, one 1000-byte chunk, then a TCP reset (no last chunk)
  /hang         reads the request, never answers
  /stall-body   200 with Content-Length: 1000, 100 body bytes, then silence (connection kept open)
  /bad-header   a response whose header section holds a control character
  /slow-headers status line at once, the rest of the head after 3 s
  /head-body    (for HEAD) a head with a Content-Length, then, 300 ms later, that many stray "body"
                bytes that look like a complete second response (a non-conforming server)
  .../close-early  reads the request (and its body), closes without answering
  /hop          200 with hop-by-hop headers (Connection-listed, Keep-Alive, Proxy-Connection, Upgrade)
  /resp-cl-te   a response with both Content-Length and Transfer-Encoding: chunked
  /resp-dup-cl  a response with two different Content-Length values
  /resp-bad-chunk  a chunked response with an invalid chunk size
  /resp-trailers  a chunked response ending with trailer fields
  /early-hints  a 103 interim response, then 200 "ok"
  /late-ok      200 "ok" after 0.5 s
  /no-content   204, then (keep-alive) the next request is served as usual
  /switch       101 Switching Protocols, never asked for
  anything else 200 "ok" (Content-Length: 2, keep-alive)
"""
import os
import socket
import struct
import sys
import threading
import time

RECORD = os.environ.get("GW_RECORD_FILE")


def record(path):
    if RECORD:
        with open(RECORD, "a") as f:
            f.write(path + "\n")


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def serve(conn):
    buf = b""
    try:
        while True:
            head, buf = read_head(conn, buf)
            if head is None:
                conn.close()
                return
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            path = parts[1] if len(parts) > 1 else "?"
            record(path)
            # Bodies are not expected here; a Content-Length body is skipped.
            for h in head.split(b"\r\n")[1:]:
                k, _, v = h.partition(b":")
                if k.strip().lower() == b"content-length":
                    need = int(v.strip())
                    while len(buf) < need:
                        d = conn.recv(65536)
                        if not d:
                            return
                        buf += d
                    buf = buf[need:]
            p = path.split("?", 1)[0]
            if p == "/reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: text/plain\r\n\r\n" + b"r" * 1000)
                time.sleep(0.2)
                reset(conn)
                return
            if p == "/reset-chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                             b"3e8\r\n" + b"c" * 1000 + b"\r\n")
                time.sleep(0.2)
                reset(conn)
                return
            if p == "/hang":
                while conn.recv(65536):
                    pass
                conn.close()
                return
            if p == "/stall-body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 100)
                while conn.recv(65536):
                    pass
                conn.close()
                return
            if p == "/bad-header":
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Evil: a\x01b\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.5)
                conn.close()
                return
            if p.endswith("/close-early"):
                conn.close()
                return
            if p == "/resp-cl-te":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n0\r\n\r\n")
                continue
            if p == "/resp-dup-cl":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 45\r\n\r\n"
                             b"okHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!")
                continue
            if p == "/resp-bad-chunk":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
                time.sleep(0.3)
                conn.close()
                return
            if p == "/resp-trailers":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                             b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n")
                continue
            if p == "/late-ok":
                time.sleep(0.5)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                continue
            if p == "/early-hints":
                conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                continue
            if p == "/no-content":
                conn.sendall(b"HTTP/1.1 204 No Content\r\nX-Was: 204\r\n\r\n")
                continue
            if p == "/switch":
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\n")
                time.sleep(0.5)
                conn.close()
                return
            if p == "/hop":
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"
                             b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n"
                             b"X-End-To-End: kept\r\nContent-Length: 2\r\n\r\nok")
                continue
            if p == "/head-body":
                fake = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(fake))
                time.sleep(0.3)
                conn.sendall(fake)
                continue
            if p == "/slow-headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                time.sleep(3)
                conn.sendall(b"Content-Length: 2\r\n\r\nok")
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
