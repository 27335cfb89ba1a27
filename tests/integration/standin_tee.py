#!/usr/bin/env python3
"""STAND-IN for the Confidential Space launcher's TEE server. TEST USE ONLY.

The real TEE server needs a TPM and Google's attestation service. This stand-in speaks the same
documented HTTP/1.1 API on a Unix socket so that runsc-host's attestation gate can be tested:

  GET  /v1/token      -> a JWT-shaped default token (audience https://sts.googleapis.com)
  POST /v1/token      -> {"audience": str, "token_type": str, "nonces": [str], "token_type_options": {}}
                         audience and token_type required; unknown fields -> 400
  POST /v1/evidence   -> {"challenge": str}; unknown fields -> 400

Tokens are NOT signed (alg "none", a fixed fake signature) and say "stand-in" in their header
and issuer. Every request that reaches a handler is counted; the counts are written as JSON to
--count-file after each request, which is how tests see how many upstream calls the gate made.

Audiences starting with "standin:" make it misbehave on purpose, to test the gate's handling
of a broken upstream: standin:garbage (malformed HTTP answer), standin:close (closes without
answering), standin:slow (answers after --slow seconds), standin:delay (answers after 0.5 s),
standin:noexp (token without exp), standin:500 (server error).
"""
import argparse
import base64
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

TOKEN_FIELDS = {"audience", "token_type", "nonces", "token_type_options"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Counter:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.counts = {"total": 0, "token_get": 0, "token_post": 0, "evidence": 0, "rejected": 0}
        self.write()

    def bump(self, key):
        with self.lock:
            self.counts["total"] += 1
            self.counts[key] += 1
            self.write()

    def write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f)
        os.replace(tmp, self.path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin-tee/1"

    def log_message(self, fmt, *args):  # quiet; the client address of a Unix socket is ""
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def token(self, audience, token_type, nonces, misbehave=None):
        now = int(time.time())
        header = {"alg": "none", "typ": "JWT", "kid": "stand-in"}
        claims = {
            "iss": "runsc-host test stand-in (not a real attestation)",
            "aud": audience,
            "iat": now,
            "token_type": token_type,
            "n": self.server.counter.counts["total"],
        }
        if misbehave != "noexp":
            claims["exp"] = now + self.server.lifetime
        if nonces:
            claims["eat_nonce"] = nonces
        return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                         b64url(b"stand-in-signature")])

    def body_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw)

    def misbehave(self, audience):
        kind = audience[len("standin:"):]
        if kind == "garbage":
            self.wfile.write(b"HTTP/1.1 2x0 WHAT\r\nContent-Length: -5\r\n\r\n\x00\x01garbage")
            self.close_connection = True
            return True
        if kind == "close":
            self.close_connection = True
            return True
        if kind == "slow":
            time.sleep(self.server.slow)
        if kind == "delay":
            time.sleep(0.5)
        if kind == "500":
            self.reply(500, "stand-in: simulated attestation service failure")
            return True
        return False

    def do_GET(self):
        if self.path != "/v1/token":
            self.server.counter.bump("rejected")
            return self.reply(404, "stand-in: not found")
        self.server.counter.bump("token_get")
        self.reply(200, self.token("https://sts.googleapis.com", "OIDC", None), "text/html")

    def do_POST(self):
        try:
            req = self.body_json()
        except (ValueError, UnicodeDecodeError) as e:
            self.server.counter.bump("rejected")
            return self.reply(400, "stand-in: invalid JSON: %s" % e)
        if not isinstance(req, dict):
            self.server.counter.bump("rejected")
            return self.reply(400, "stand-in: body must be an object")
        if self.path == "/v1/token":
            unknown = set(req) - TOKEN_FIELDS
            if unknown:
                self.server.counter.bump("rejected")
                return self.reply(400, "stand-in: unknown field %s" % sorted(unknown)[0])
            aud, ttype = req.get("audience"), req.get("token_type")
            if not isinstance(aud, str) or not aud or not isinstance(ttype, str) or not ttype:
                self.server.counter.bump("rejected")
                return self.reply(400, "stand-in: audience and token_type are required")
            self.server.counter.bump("token_post")
            if aud.startswith("standin:") and self.misbehave(aud):
                return
            return self.reply(200, self.token(aud, ttype, req.get("nonces"), aud[len("standin:"):]
                                              if aud.startswith("standin:") else None), "text/html")
        if self.path == "/v1/evidence":
            if set(req) != {"challenge"}:
                self.server.counter.bump("rejected")
                return self.reply(400, "stand-in: evidence takes exactly {\"challenge\": ...}")
            self.server.counter.bump("evidence")
            return self.reply(200, json.dumps({"stand_in": True, "challenge": req["challenge"]}),
                              "application/json")
        self.server.counter.bump("rejected")
        self.reply(404, "stand-in: not found")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("socket")
    ap.add_argument("--count-file")
    ap.add_argument("--lifetime", type=int, default=3600, help="token lifetime in seconds")
    ap.add_argument("--slow", type=float, default=3.0)
    ap.add_argument("--ready-file", help="created once the socket listens")
    args = ap.parse_args()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = Server(args.socket, Handler)
    os.chmod(args.socket, 0o600)
    srv.counter = Counter(args.count_file)
    srv.lifetime = args.lifetime
    srv.slow = args.slow
    if args.ready_file:
        open(args.ready_file, "w").close()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
