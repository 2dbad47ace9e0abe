"""WSGI test backend for the gatewayd integration tests (run under gunicorn, gthread worker).

Every request is appended to the file named by $GW_RECORD_FILE as "METHOD PATH?QUERY" before it
is answered, so a test can assert exactly which requests reached the backend.

Endpoints (anything else is /echo):
  /echo...            JSON: method, path, query, headers (HTTP_* as lower-case names), body_len,
                      body_sha256, chunked (request had Transfer-Encoding: chunked)
  /stream?n=N[&chunked=1]
                      N bytes where byte i is i % 251; Content-Length unless chunked=1
  /sleep?ms=M         sleeps M ms, then answers like /echo
  /setcookie          answers with a Set-Cookie header
  /slowread?ms=M      reads the body in 64 KiB pieces, sleeping M ms after each, then answers like /echo
"""
import hashlib
import json
import os
import time
import urllib.parse

RECORD = os.environ.get("GW_RECORD_FILE")
_BLOCK = bytes(i % 251 for i in range(251 * 261))  # a multiple of 251 keeps the pattern continuous


def _record(environ):
    if not RECORD:
        return
    line = "%s %s%s\n" % (environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                         "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
    fd = os.open(RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def _read_body(environ, piece=256 * 1024, pause=0.0):
    """Reads wsgi.input in chunks (never the whole body at once); returns (length, sha256)."""
    h = hashlib.sha256()
    n = 0
    inp = environ["wsgi.input"]
    cl = environ.get("CONTENT_LENGTH")
    remaining = int(cl) if cl else None
    while remaining is None or remaining > 0:
        want = piece if remaining is None else min(piece, remaining)
        chunk = inp.read(want)
        if not chunk:
            break
        if pause:
            time.sleep(pause)
        h.update(chunk)
        n += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    return n, h.hexdigest()


def _echo(environ, start_response, status="200 OK", extra=(), body=None):
    n, sha = body if body is not None else _read_body(environ)
    headers = {}
    for k, v in environ.items():
        if k.startswith("HTTP_"):
            headers[k[5:].lower().replace("_", "-")] = v
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    out = json.dumps({
        "method": environ["REQUEST_METHOD"],
        "path": environ.get("PATH_INFO", ""),
        "raw_uri": environ.get("RAW_URI", ""),
        "query": environ.get("QUERY_STRING", ""),
        "headers": headers,
        "body_len": n,
        "body_sha256": sha,
        "chunked": environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked",
    }, sort_keys=True).encode() + b"\n"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))] + list(extra))
    return [out]


def _stream(n, chunk_size=len(_BLOCK)):
    sent = 0
    while sent < n:
        k = min(chunk_size, n - sent)
        # _BLOCK starts at pattern offset 0 and sent is always a multiple of len(_BLOCK) here.
        yield _BLOCK[:k]
        sent += k


def application(environ, start_response):
    body = _dispatch(environ, start_response)
    if environ["REQUEST_METHOD"] == "HEAD":
        # gunicorn 20 sends whatever the app returns, even for HEAD: drop the body here.
        for _ in body:
            pass
        return []
    return body


def _dispatch(environ, start_response):
    _record(environ)
    path = environ.get("PATH_INFO", "")
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if path.endswith("/stream"):
        n = int(q.get("n", ["0"])[0])
        _read_body(environ)
        headers = [("Content-Type", "application/octet-stream")]
        if q.get("chunked", ["0"])[0] != "1":
            headers.append(("Content-Length", str(n)))
        start_response("200 OK", headers)
        return _stream(n)
    if path.endswith("/sleep"):
        time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
        return _echo(environ, start_response)
    if path.endswith("/slowread"):
        pause = int(q.get("ms", ["10"])[0]) / 1000.0
        return _echo(environ, start_response, body=_read_body(environ, 64 * 1024, pause))
    if path.endswith("/setcookie"):
        return _echo(environ, start_response, extra=[("Set-Cookie", "sid=SECRET-SETCOOKIE-789; HttpOnly")])
    return _echo(environ, start_response)
