# A real SMTP peer for Veil's delivery client: Debian's python3-aiosmtpd with STARTTLS and an AUTH authenticator.
# Usage: aiosmtpd_tls_auth.py PORT OUT_DIR CERT_PEM KEY_PEM USER PASSWORD [--no-tls] [--require-starttls] [--login-only]
# Each accepted message is written to OUT_DIR/N.eml (raw bytes as received) and OUT_DIR/N.json (whether the session
# was under TLS and who authenticated). Prints READY once listening; stops when stdin closes.
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out, cert, key, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
flags = set(sys.argv[7:])


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(out) if f.endswith(".eml")])
        with open(os.path.join(out, "%d.json" % n), "w") as f:
            login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
            json.dump({"tls": session.ssl is not None, "login": login,
                       "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(os.path.join(out, "%d.eml" % n), "wb") as f:
            f.write(envelope.original_content)
        return "250 2.0.0 OK"


tls = None
if "--no-tls" not in flags:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

controller = Controller(
    Recorder(), hostname="127.0.0.1", port=port, decode_data=False, enable_SMTPUTF8=True,
    tls_context=tls, require_starttls="--require-starttls" in flags,
    authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None,
    auth_exclude_mechanism=["PLAIN"] if "--login-only" in flags else None)
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
