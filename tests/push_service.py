"""A push service of our own on loopback, standing in for FCM / Apple / Mozilla.

For each subscription it holds the browser side's key pair and auth secret, so it
can do what the real service and the browser do together: check the VAPID JWT
(RFC 8292: ES256 signature by the key in ``k``, ``aud`` = this origin, ``exp`` within
24 h, a ``sub`` contact), and decrypt the ``aes128gcm`` message (RFC 8291) with the
subscription's private key. It answers each delivery with the next status a test
scripted (201 by default).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask, request


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """The browser side of one subscription."""

    sub_id: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))
    answers: deque[int] = field(default_factory=deque)
    received: list[dict[str, Any]] = field(default_factory=list)  # decrypted payloads
    rejected: list[str] = field(default_factory=list)  # why a delivery was refused

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription_json(self, base_url: str) -> dict[str, Any]:
        return {
            "endpoint": f"{base_url}/push/{self.sub_id}",
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }


class PushService:
    def __init__(self) -> None:
        self.subscribers: dict[str, Subscriber] = {}
        self.vapid_keys_seen: list[str] = []
        self.app = Flask("push_service")
        self.app.add_url_rule("/push/<sub_id>", view_func=self._push, methods=["POST"])

    def subscriber(self, sub_id: str) -> Subscriber:
        return self.subscribers.setdefault(sub_id, Subscriber(sub_id))

    def _push(self, sub_id: str):
        sub = self.subscribers.get(sub_id)
        if sub is None:
            return "", 404
        problem = self._check(sub)
        if problem:
            sub.rejected.append(problem)
            return problem, 400 if problem != "bad vapid signature" else 403
        status = sub.answers.popleft() if sub.answers else 201
        if status in (200, 201, 202):
            sub.received.append(self._decrypt(sub))
        headers = {"Retry-After": "1"} if status == 429 else {}
        return "", status, headers

    def _check(self, sub: Subscriber) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("vapid "):
            return "no vapid authorization"
        params = dict(p.strip().split("=", 1) for p in auth[6:].split(","))
        token, key = params.get("t", ""), params.get("k", "")
        try:
            header_b64, claims_b64, sig_b64 = token.split(".")
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            sig = unb64url(sig_b64)
            der = encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature):
            return "bad vapid signature"
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        origin = f"{request.scheme}://{request.host}"
        if header.get("alg") != "ES256":
            return "vapid alg is not ES256"
        if claims.get("aud") != origin:
            return f"vapid aud {claims.get('aud')!r} is not {origin!r}"
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 24 * 3600:
            return "vapid exp out of range"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "vapid sub is not a contact"
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "not aes128gcm"
        if int(request.headers.get("TTL", "0")) <= 0:
            return "TTL is 0: a sleeping phone would never get it"
        self.vapid_keys_seen.append(key)
        return None

    def _decrypt(self, sub: Subscriber) -> dict[str, Any]:
        plain = http_ece.decrypt(
            request.get_data(),
            private_key=sub.private_key,
            auth_secret=sub.auth_secret,
            version="aes128gcm",
        )
        return json.loads(plain)
