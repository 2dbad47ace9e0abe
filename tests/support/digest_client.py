#!/usr/bin/python3
"""RFC 7616 Digest test client for the gatewayd integration tests (python hashlib; sha512_256
comes from OpenSSL 3). Curl cannot do SHA-512-256 and requests cannot do -sess/SHA-512-256, so
this client covers those, plus the replay scenarios. Prints one "name=value" line per check.

  digest_client.py PORT get PATH ALGORITHM USER PASSWORD [userhash]
  digest_client.py PORT replays PATH ALGORITHM USER PASSWORD OTHER_REALM_PATH
  digest_client.py PORT stale PATH ALGORITHM USER PASSWORD SLEEP_SECONDS
  digest_client.py PORT authinfo PATH ALGORITHM USER PASSWORD
  digest_client.py PORT parallel PATH ALGORITHM USER PASSWORD CONNECTIONS
  digest_client.py PORT authint PATH ALGORITHM USER PASSWORD CAP_BYTES
  digest_client.py PORT delays PATH ALGORITHM USER PASSWORD ATTEMPTS
"""
import hashlib
import http.client
import os
import re
import sys
import threading
import time

HASH = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def H(alg, s):
    return hashlib.new(HASH[alg.replace("-sess", "")], s.encode()).hexdigest()


def params(value):
    return {m[0].lower(): (m[1] if m[1] else m[2]) for m in re.findall(r'([\w*]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value)}


class Client:
    def __init__(self, port):
        self.port = port

    def request(self, path, auth=None, method="GET", body=None, extra=None, chunked=False):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": auth} if auth else {}
        headers.update(extra or {})
        if chunked:  # Transfer-Encoding: chunked, in three chunks
            parts = [body[:10], body[10:5000], body[5000:]]
            c.request(method, path, body=iter(parts), headers=headers, encode_chunked=True)
        else:
            c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        body = r.read()
        hdrs = r.getheaders()
        c.close()
        return r.status, hdrs, body

    def challenge(self, path, alg):
        status, hdrs, _ = self.request(path)
        for k, v in hdrs:
            if k.lower() == "www-authenticate":
                p = params(v[len("Digest "):])
                if p.get("algorithm") == alg:
                    return status, p
        return status, None


def authorization(alg, user, pw, realm, nonce, uri, nc, cnonce="0a4f113b", method="GET", userhash=False, body=None):
    ha1 = H(alg, f"{user}:{realm}:{pw}")
    if alg.endswith("-sess"):
        ha1 = H(alg, f"{ha1}:{nonce}:{cnonce}")
    qop = "auth"
    a2 = f"{method}:{uri}"
    if body is not None:  # qop=auth-int: A2 = method:uri:H(entity-body)
        qop = "auth-int"
        a2 += ":" + hashlib.new(HASH[alg.replace("-sess", "")], body).hexdigest()
    ha2 = H(alg, a2)
    ncs = f"{nc:08x}"
    resp = H(alg, f"{ha1}:{nonce}:{ncs}:{cnonce}:{qop}:{ha2}")
    name = H(alg, f"{user}:{realm}") if userhash else user
    v = (f'Digest username="{name}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm={alg}, '
         f'qop={qop}, nc={ncs}, cnonce="{cnonce}", response="{resp}"')
    if userhash:
        v += ", userhash=true"
    return v


def header(hdrs, name):
    for k, v in hdrs:
        if k.lower() == name.lower():
            return v
    return ""


def main():
    port, mode, path, alg, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
    c = Client(port)
    st, ch = c.challenge(path, alg)
    print(f"challenge={st}")
    if not ch:
        print("offered=no")
        return
    realm, nonce = ch["realm"], ch["nonce"]
    if mode == "get":
        uh = len(sys.argv) > 7 and sys.argv[7] == "userhash"
        st, hdrs, body = c.request(path, authorization(alg, user, pw, realm, nonce, path, 1, userhash=uh))
        print(f"status={st}")
        print(f"body={body.decode(errors='replace')}")
    elif mode == "replays":
        other_path = sys.argv[7]
        h1 = authorization(alg, user, pw, realm, nonce, path, 1)
        print(f"first={c.request(path, h1)[0]}")
        print(f"same_header_again={c.request(path, h1)[0]}")
        print(f"nc3={c.request(path, authorization(alg, user, pw, realm, nonce, path, 3))[0]}")
        print(f"lower_nc2={c.request(path, authorization(alg, user, pw, realm, nonce, path, 2))[0]}")
        wrong = authorization(alg, user, pw, realm, nonce, path + "/other", 4)
        print(f"wrong_uri={c.request(path, wrong)[0]}")
        tampered = nonce[:-1] + ("0" if nonce[-1] != "0" else "1")
        st, hdrs, _ = c.request(path, authorization(alg, user, pw, realm, tampered, path, 1))
        print(f"tampered_nonce={st}")
        print(f"tampered_stale={'stale=true' in header(hdrs, 'www-authenticate')}")
        _, other = c.challenge(other_path, "MD5")
        if other is None:
            print("other_realm=no-challenge")
        else:
            # The other realm's nonce, presented to this realm (response computed for this realm).
            st, hdrs, _ = c.request(path, authorization(alg, user, pw, realm, other["nonce"], path, 1))
            print(f"other_realm_nonce={st}")
        print(f"after_all_nc5={c.request(path, authorization(alg, user, pw, realm, nonce, path, 5))[0]}")
    elif mode == "stale":
        print(f"first={c.request(path, authorization(alg, user, pw, realm, nonce, path, 1))[0]}")
        time.sleep(float(sys.argv[7]))
        st, hdrs, _ = c.request(path, authorization(alg, user, pw, realm, nonce, path, 2))
        print(f"expired={st}")
        stale = [v for k, v in hdrs if k.lower() == "www-authenticate"]
        print(f"expired_stale={bool(stale) and all('stale=true' in v for v in stale)}")
        st, hdrs, _ = c.request(path, authorization(alg, user, "wrong", realm, nonce, path, 3))
        print(f"expired_wrong_password_stale={'stale=true' in header(hdrs, 'www-authenticate')}")
        fresh = params(stale[0][len("Digest "):])["nonce"] if stale else ""
        print(f"retry_with_new_nonce={c.request(path, authorization(alg, user, pw, realm, fresh, path, 1))[0]}")
    elif mode == "parallel":
        # One valid header replayed on many connections at once (they spread over the workers).
        h = authorization(alg, user, pw, realm, nonce, path, 1)
        n = int(sys.argv[7])
        statuses, barrier = [], threading.Barrier(n)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(n)]
        for conn in conns:
            conn.connect()

        def fire(conn):
            barrier.wait()
            conn.request("GET", path, headers={"Authorization": h})
            r = conn.getresponse()
            r.read()
            statuses.append(r.status)

        threads = [threading.Thread(target=fire, args=(conn,)) for conn in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"ok={statuses.count(200)}")
        print(f"refused={statuses.count(401)}")
    elif mode == "authint":
        cap = int(sys.argv[7])
        www = [v for k, v in c.request(path)[1] if k.lower() == "www-authenticate"]
        both = 'qop="auth,auth-int"'
        print(f"offers_auth_int={bool(www) and all(both in v for v in www)}")
        body = os.urandom(100000)
        auth = authorization(alg, user, pw, realm, nonce, path, 1, method="POST", body=body)
        st, _, got = c.request(path, auth, method="POST", body=body)
        print(f"post={st}")
        print(f"upstream_saw_body={hashlib.sha256(body).hexdigest() in got.decode(errors='replace')}")
        # A body swapped in transit: the digest covered another one.
        auth = authorization(alg, user, pw, realm, nonce, path, 2, method="POST", body=body)
        print(f"tampered_body={c.request(path, auth, method='POST', body=body[:-1] + b'x')[0]}")
        # Chunked: the body (and its end) must reach the upstream once, after the check.
        auth = authorization(alg, user, pw, realm, nonce, path, 3, method="POST", body=body)
        st, _, got = c.request(path, auth, method="POST", body=body, chunked=True)
        print(f"chunked_post={st} {hashlib.sha256(body).hexdigest() in got.decode(errors='replace')}")
        auth = authorization(alg, user, pw, realm, nonce, path, 4, method="POST", body=b"")
        print(f"empty_body={c.request(path, auth, method='POST', body=b'')[0]}")
        big = b"a" * (cap + 1)
        auth = authorization(alg, user, pw, realm, nonce, path, 5, method="POST", body=big)
        print(f"over_cap={c.request(path, auth, method='POST', body=big)[0]}")
        auth = authorization(alg, user, pw, realm, nonce, path, 6, method="POST", body=body)
        st, _, _ = c.request(path, auth, method="POST", body=body, extra={"Expect": "100-continue"})
        print(f"expect_continue={st}")
        # The same request with qop=auth still works: auth-int is offered, not imposed.
        print(f"qop_auth={c.request(path, authorization(alg, user, pw, realm, nonce, path, 7))[0]}")
    elif mode == "delays":
        # Wrong passwords in a row: each answer's latency, in ms (the gateway holds back later ones).
        for i in range(int(sys.argv[7])):
            t0 = time.monotonic()
            st = c.request(path, authorization(alg, user, pw + "x", realm, nonce, path, i + 1))[0]
            print(f"attempt{i}={st} {int((time.monotonic() - t0) * 1000)}")
    elif mode == "authinfo":
        cnonce = os.urandom(8).hex()
        st, hdrs, _ = c.request(path, authorization(alg, user, pw, realm, nonce, path, 1, cnonce=cnonce))
        print(f"status={st}")
        ai = params(header(hdrs, "authentication-info"))
        ha1 = H(alg, f"{user}:{realm}:{pw}")
        if alg.endswith("-sess"):
            ha1 = H(alg, f"{ha1}:{nonce}:{cnonce}")
        expect = H(alg, f"{ha1}:{nonce}:00000001:{cnonce}:auth:{H(alg, ':' + path)}")
        print(f"rspauth_ok={ai.get('rspauth') == expect}")
        nn = ai.get("nextnonce", "")
        print(f"nextnonce={c.request(path, authorization(alg, user, pw, realm, nn, path, 1))[0] if nn else 'none'}")


if __name__ == "__main__":
    main()
