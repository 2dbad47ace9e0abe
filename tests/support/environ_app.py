"""WSGI app for the FastCGI / uwsgi integration tests and tests/load/framed.sh.

Served by uWSGI (--fastcgi-socket / --socket), gevent.pywsgi and cheroot.
  /.../env...        the CGI/WSGI part of the environ as JSON (str values, wsgi.url_scheme)
  /.../upload        reads wsgi.input in chunks: {"bytes": n, "sha256": hex}
  /.../download?n=N  N pattern bytes (byte i = i % 251), Content-Length, 64 KiB chunks
  /.../slow          headers (X-Pid) at once, then 1 KiB every 50 ms, 2000 times
  /.../sleep?s=S     sleeps S seconds, then {"pid": ...}
  /.../pid           {"pid": ...}
  /.../hello         a small plain-text answer (the benchmark)
Usage as a server: environ_app.py gevent|cheroot PORT
"""
import hashlib
import json
import os
import sys
import time

PATTERN = bytes(i % 251 for i in range(251 * 262))  # 65762 bytes; starts at offset 0 of the pattern


def _pattern(offset, n):
    out = bytearray()
    while n > 0:
        start = offset % 251
        take = min(n, len(PATTERN) - start)
        out += PATTERN[start:start + take]
        offset += take
        n -= take
    return bytes(out)


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    last = path.rstrip("/").rsplit("/", 1)[-1]
    qs = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    if last == "hello":
        body = b"hello from wsgi\n"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if last == "upload":
        h = hashlib.sha256()
        n = 0
        inp = environ["wsgi.input"]
        left = int(environ.get("CONTENT_LENGTH") or 0)
        while left > 0:
            chunk = inp.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            left -= len(chunk)
        return _json(start_response, {"bytes": n, "sha256": h.hexdigest(), "pid": os.getpid()})
    if last == "download":
        total = int(qs.get("n", "1048576"))
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(total))])

        def gen():
            off = 0
            while off < total:
                n = min(65536, total - off)
                yield _pattern(off, n)
                off += n
        return gen()
    if last == "slow":
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("X-Pid", str(os.getpid())),
                                  ("Content-Length", str(2000 * 1024))])

        def slow():
            for _ in range(2000):
                yield b"s" * 1024
                time.sleep(0.05)
        return slow()
    if last == "sleep":
        time.sleep(float(qs.get("s", "1")))
        return _json(start_response, {"pid": os.getpid()})
    if last == "pid":
        return _json(start_response, {"pid": os.getpid()})
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    env = {k: v for k, v in environ.items() if isinstance(v, str) and (k.isupper() or k == "wsgi.url_scheme")}
    return _json(start_response, {"environ": env, "body": body.decode("latin-1"), "pid": os.getpid()})


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "gevent":
        from gevent.pywsgi import WSGIServer
        WSGIServer(("127.0.0.1", port), application, log=None).serve_forever()
    elif kind == "cheroot":
        try:
            from cheroot import wsgi
            server = wsgi.Server(("127.0.0.1", port), application, numthreads=int(os.environ.get("THREADS", "8")))
        except ImportError:
            from cherrypy import wsgiserver as wsgi
            server = wsgi.CherryPyWSGIServer(("127.0.0.1", port), application, numthreads=int(os.environ.get("THREADS", "8")))
        server.start()
    else:
        sys.exit("usage: environ_app.py gevent|cheroot PORT")
