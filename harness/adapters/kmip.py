"""The KMIP adapters: our reference server, PyKMIP's server and PyKMIP's client.

Both servers are network endpoints the harness starts on a free loopback port, with a
fresh test PKI (``{certs}``, see harness/tlscerts.py) and a private working folder
(``{workdir}``: database, PyKMIP's config and log); the suites reach them through
harness.roles.kmip.KmipServer with the generated client certificate.  Readiness is a
TCP connect to ``kmip+tls://host:port``.

Capabilities ``kmip.version.X.Y`` declare the protocol versions each one speaks: our
server 1.0-2.1; PyKMIP 0.11 1.0-1.4 and 2.0 (its server's Discover Versions list,
kmip/services/server/engine.py; it cannot read 2.1 messages).
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec

from harness.adapters.base import AdapterSpec, EndpointTransportSpec, bundled_xfail

ALL_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1")
PYKMIP_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0")
URL = "kmip+tls://{host}:{port}"


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def _versions(versions: tuple[str, ...]) -> frozenset[str]:
    return frozenset(f"kmip.version.{v}" for v in versions)


def reference_server_spec() -> AdapterSpec:
    return AdapterSpec(
        name="reference-kmip-server",
        roles=frozenset({"kmip-server"}),
        capabilities=_versions(ALL_VERSIONS) | {"kmip.tls.mutual"},
        transport=EndpointTransportSpec(
            url=URL,
            start=(sys.executable, "-m", "harness.cli", "serve", "kmip", "--host", "{host}", "--port", "{port}",
                   "--certs", "{certs}", "--db", "{workdir}/kmip.sqlite"),
            ready_timeout_s=30.0,
        ),
        description="keyprov-lab reference KMIP server (kplab serve kmip), mutual TLS on loopback",
        version=_package_version("keyprov-lab"),
        third_party=False,
        xfail_file=bundled_xfail("reference-kmip-server"),  # its known gaps, visible in every report
    )


def _pykmip_check() -> str | None:
    if find_spec("kmip") is None:
        return "PyKMIP is not installed (pip install 'keyprov-lab[peers]')"
    return None


def pykmip_server_spec() -> AdapterSpec:
    return AdapterSpec(
        name="pykmip-server",
        roles=frozenset({"kmip-server"}),
        capabilities=_versions(PYKMIP_VERSIONS) | {"kmip.tls.mutual"},
        transport=EndpointTransportSpec(
            url=URL,
            start=(sys.executable, "-m", "harness.adapters.pykmip_server", "--host", "{host}", "--port", "{port}",
                   "--certs", "{certs}", "--workdir", "{workdir}"),
            ready_timeout_s=60.0,
        ),
        description="PyKMIP (PyPI pykmip) pykmip-server, started by the harness with generated certificates",
        version=_package_version("pykmip"),
        third_party=True,
        check=_pykmip_check,
        xfail_file=bundled_xfail("pykmip-server"),
    )


def pykmip_client_spec() -> AdapterSpec:
    from harness.adapters.pykmip_client import adapter_spec

    return adapter_spec()
