"""Real local servers for the notification tests: a scripted Slack webhook, SMTP, Alertmanager."""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support import free_port


@dataclass
class Received:
    body: dict[str, Any]
    status: int
    at: float


class WebhookServer:
    """Answers a scripted sequence of statuses (then 200), recording every request body.

    ``script`` items: an int status, or (status, headers).
    """

    def __init__(self) -> None:
        self.script: list[Any] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self.event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
                with outer._lock:
                    step = outer.script.pop(0) if outer.script else 200
                    status, headers = (step, {}) if isinstance(step, int) else step
                    outer.requests.append(Received(body, status, time.time()))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                text = b"ok" if status == 200 else b"no_service" if status == 404 else b"error"
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                outer.event.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T000/B000/XXXX"
        # shutdown() waits for the loop's next poll: at the default 0.5 s that was half a second
        # of every notification test's teardown.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    @property
    def delivered(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests if r.status == 200]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class SmtpServer:
    """aiosmtpd with STARTTLS required and AUTH (user lookout / password from the test)."""

    cert: Path
    key: Path
    user: str = "lookout"
    password: str = "s3cret-smtp"
    port: int = field(default_factory=free_port)
    messages: list[Any] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                import email
                from email import policy
                outer.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                outer.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
            ok = auth_data.login == self.user.encode() and auth_data.password == self.password.encode()
            return AuthResult(success=ok)

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=ctx,
                                     require_starttls=True, authenticator=authenticator,
                                     auth_require_tls=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Alertmanager:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        cfg = tmp / "alertmanager.yml"
        cfg.write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
        self.log = open(tmp / "alertmanager.log", "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/prometheus-alertmanager", f"--config.file={cfg}", f"--storage.path={tmp / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Alertmanager did not start: {(tmp / 'alertmanager.log').read_text()[-2000:]}")

    def alerts(self, **params: Any) -> list[dict[str, Any]]:
        return requests.get(self.url + "/api/v2/alerts", params=params, timeout=5).json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
