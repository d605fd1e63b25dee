"""A stand-in "vendor" PSKC importer for the shell template's test.

It keeps the contract of docs/examples/pskc-consumer-template.sh: the document file as
the last argument, secrets in the files named by KPLAB_KEY_HEX_FILE / KPLAB_PASSWORD_FILE
/ KPLAB_PRIVATE_KEY_FILE, one JSON KEY object per line on stdout and exit 0, or the
reason on stderr and exit 1.  The import itself is python-pskc's, through the lab's
python-pskc adapter class.  Options make it misbehave the ways a real importer can:
``--garbage`` (non-JSON output), ``--abort`` (killed by SIGABRT), ``--exit=N``.
"""

from __future__ import annotations

import base64
import json
import os
import sys


def _secret(variable: str) -> str | None:
    path = os.environ.get(variable)
    if path is None:
        return None
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def main(argv: list[str]) -> int:
    options, document = argv[:-1], argv[-1]
    if "--garbage" in options:
        print("Imported 1 token(s).")
        return 0
    if "--abort" in options:
        os.abort()
    for option in options:
        if option.startswith("--exit="):
            print("stand-in refuses on request", file=sys.stderr)
            return int(option.split("=", 1)[1])

    from harness.adapters.python_pskc import PythonPskc
    from harness.errors import InputError, ProtocolError, Unsupported

    with open(document, "rb") as handle:
        params = {"document_b64": base64.b64encode(handle.read()).decode()}
    for variable, name in (("KPLAB_KEY_HEX_FILE", "key_hex"), ("KPLAB_PASSWORD_FILE", "password"),
                           ("KPLAB_PRIVATE_KEY_FILE", "private_key_pem")):
        value = _secret(variable)
        if value is not None:
            params[name] = value
    try:
        keys = PythonPskc().decode(params)["keys"]
    except (ProtocolError, InputError, Unsupported) as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 1
    for key in keys:
        print(json.dumps(key))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
