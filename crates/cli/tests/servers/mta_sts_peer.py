"""A receiving domain for MTA-STS tests: its policy over HTTPS and its MX
over SMTP with STARTTLS, both on 127.0.0.1 ports of their own.

Arguments: DIR. Makes a test CA and two certificates with openssl in DIR:
one for mta-sts.fabrikam.example (the policy host, valid) and one for
wrong.example (the MX's: not valid for mx.fabrikam.example). Serves the
policy from DIR/policy.txt (read on each request, so the test can change
it). Records what the MX saw in DIR/events.txt, one line per event, and
each message it took in DIR/message-N.eml.
Prints {"https": PORT, "smtp": PORT, "ca": PATH} once ready, then serves
until killed.
"""
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

d = sys.argv[1]


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def leaf(name):
    key, csr, pem, ext = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", pem, "-days", "2", "-extfile", ext)
    return pem, key


ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=Mailroom test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
policy_cert = leaf("mta-sts.fabrikam.example")
mx_cert = leaf("wrong.example")
events = os.path.join(d, "events.txt")
lock, count = threading.Lock(), [0]


def event(text):
    with open(events, "a") as f:
        f.write(text + "\n")


class Policy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        with open(os.path.join(d, "policy.txt"), "rb") as f:
            body = f.read()
        event("policy fetched")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


https = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Policy)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(*policy_cert)
https.socket = context.wrap_socket(https.socket, server_side=True)
threading.Thread(target=https.serve_forever, daemon=True).start()

mx_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
mx_context.load_cert_chain(*mx_cert)


def smtp(conn):
    f = conn.makefile("rb")

    def say(line):
        conn.sendall(line.encode() + b"\r\n")

    say("220 mx.fabrikam.example ESMTP")
    tls = False
    while True:
        line = f.readline()
        if not line:
            event("closed" + (" after TLS" if tls else ""))
            return
        verb = line.decode(errors="replace").strip().split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            say("250-mx.fabrikam.example\r\n250-8BITMIME\r\n" + ("" if tls else "250-STARTTLS\r\n") + "250 SIZE 100000000")
        elif verb == "STARTTLS":
            say("220 go ahead")
            try:
                conn = mx_context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                event("TLS handshake failed")
                return
            f = conn.makefile("rb")
            tls = True
            event("TLS")
        elif verb == "DATA":
            say("354 go on")
            data = b""
            while True:
                part = f.readline()
                if not part or part == b".\r\n":
                    break
                data += part
            event("DATA " + ("over TLS" if tls else "plain"))
            with lock:
                count[0] += 1
                with open(os.path.join(d, f"message-{count[0]}.eml"), "wb") as out:
                    out.write(data)
            say("250 queued")
        elif verb == "QUIT":
            say("221 bye")
            return
        else:
            say("250 ok")


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()


def accept():
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=smtp, args=(conn,), daemon=True).start()


threading.Thread(target=accept, daemon=True).start()
print(json.dumps({"https": https.server_address[1], "smtp": listener.getsockname()[1], "ca": ca}), flush=True)
threading.Event().wait()
