"""Fixtures of the DSKPP suites.

* ``server``: the ``dskpp_server`` adapter wrapped in harness.roles.dskpp.DskppServerRole
  (its HTTP connection closed after the case);
* ``client``: the ``dskpp_client`` adapter wrapped in DskppClientRole;
* ``peer``: the scriptable reference server (reference/dskpp/peer.py) serving HTTP on a
  loopback port for the whole session, with its own RSA key, a pre-shared key (also for
  four-pass) and a passphrase; cases reconfigure it with ``peer.configure(...)``.
"""

from __future__ import annotations

import secrets

import pytest


@pytest.fixture
def server(dskpp_server):  # type: ignore[no-untyped-def]
    from harness.roles.dskpp import DskppServerRole

    role = DskppServerRole(dskpp_server)
    yield role
    role.close()


@pytest.fixture
def client(dskpp_client):  # type: ignore[no-untyped-def]
    from harness.roles.dskpp import DskppClientRole

    return DskppClientRole(dskpp_client)


PEER_PSK_NAME = "kplab-peer-psk"
PEER_PASSPHRASE_NAME = "kplab-peer-passphrase"


@pytest.fixture(scope="session")
def peer():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import rsa

    from reference.dskpp.peer import PeerServer
    from reference.dskpp.policy import KeyTypePolicy, ServerPolicy
    from harness.roles.dskpp import ENCRYPTION, KEY_TYPES

    policy = ServerPolicy(
        server_id="urn:keyprov-lab:dskpp-peer",
        rsa_private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        shared_keys={PEER_PSK_NAME: secrets.token_bytes(16)}, four_pass_shared_key=PEER_PSK_NAME,
        passphrases={PEER_PASSPHRASE_NAME: secrets.token_hex(12)},
        key_types=(KeyTypePolicy(KEY_TYPES["hotp"]), KeyTypePolicy(KEY_TYPES["totp"], counter=None, time_interval=30)),
        encryption_algorithms=tuple(ENCRYPTION.values()),
    )
    server = PeerServer(policy)
    server.serve()
    yield server
    server.close()
