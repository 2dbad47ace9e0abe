#!/usr/bin/python3
"""Sends one HTTP/1.1-style request (read raw from stdin) over HTTP/2 with prior knowledge (h2c)
and prints the status on the first line, then the response body. Host becomes :authority;
connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2), are left out.

  h2_request.py PORT < request
"""
import socket
import sys

import h2.config
import h2.connection
import h2.events

CONNECTION_SPECIFIC = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}


def main():
    port = int(sys.argv[1])
    raw = sys.stdin.buffer.read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    fields = [tuple(x.split(":", 1)) for x in lines[1:] if x]
    fields = [(k.strip().lower(), v.strip()) for k, v in fields]
    authority = next((v for k, v in fields if k == "host"), "localhost")
    headers = [(":method", method), (":scheme", "http"), (":authority", authority), (":path", target)]
    headers += [(k, v) for k, v in fields if k not in CONNECTION_SPECIFIC]

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="latin-1"))
    conn.initiate_connection()
    conn.send_headers(1, headers, end_stream=not body)
    if body:
        conn.send_data(1, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, out, done = None, b"", False
    while not done:
        data = sock.recv(65536)
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(":status")
            elif isinstance(ev, h2.events.DataReceived):
                out += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset, h2.events.ConnectionTerminated)):
                done = True
        sock.sendall(conn.data_to_send())
    sock.close()
    sys.stdout.write(f"{status}\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
