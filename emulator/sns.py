"""SNS: one signing key per process, not one per subscription.

Amazon SNS signs every message it delivers and names the certificate in the message's `SigningCertURL`, which
subscribers fetch and check (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html); in AWS's
examples it is the region's one `SimpleNotificationService-<hash>.pem`, the same for every subscription. moto makes a
new 2048-bit RSA key for each subscription the first time it delivers to it: tens of milliseconds of CPU each, twice
per drill. Here every subscription signs with one key, made on first use. The messages are moto's, unchanged.
"""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives.asymmetric import rsa
from moto.sns.models import Subscription


@cache
def _signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def install_sns() -> None:
    if getattr(Subscription, "_mdr_installed", False):
        return
    Subscription.private_key = lambda self: _signing_key()  # type: ignore[method-assign,assignment]
    Subscription._mdr_installed = True  # type: ignore[attr-defined]
