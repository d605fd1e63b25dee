"""A misbehaving otp-generator shim for the harness's own tests.

``python otp_double.py MODE``; MODE decides how it answers ``otp-generator.hotp`` (the
probe is answered correctly unless the mode starts with ``probe-``).  The correct
answer is the RFC 4226 Appendix D value for counter 0 of the RFC's secret: 755224.
"""

import json
import sys
import time

RFC4226_COUNTER0 = "755224"


def answer(mode: str, req: dict) -> dict | str | None:
    op = req["op"]
    if op == "kplab.no-such-operation":
        if mode == "probe-crash":
            sys.exit(7)
        if mode == "probe-hang":
            time.sleep(60)
        if mode == "probe-accept":
            return {"result": {}}
        return {"unsupported": "unknown operation"}
    if op != "otp-generator.hotp":
        return {"unsupported": op}
    if mode == "hang":
        time.sleep(60)
    if mode == "crash":
        print("double: simulated crash", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "garbage":
        return "this is not json"
    if mode == "wrongid":
        return {"id": 999, "result": {"otp": RFC4226_COUNTER0}}
    if mode == "refuse":
        return {"refused": {"status": "BadKey", "message": "key refused"}}
    if mode == "fault":
        return {"fault": {"type": "KeyError", "message": "'Id'"}}
    if mode == "wrong":
        return {"result": {"otp": "000000"}}
    if mode == "leak":
        print(f"double: using secret {req['params']['secret_hex']}", file=sys.stderr, flush=True)
        return {"result": {"otp": "000000", "secret_hex": req["params"]["secret_hex"]}}
    if mode == "badtype":
        return {"result": {"otp": 755224}}
    return {"result": {"otp": RFC4226_COUNTER0}}


def main() -> None:
    mode = sys.argv[1]
    for line in sys.stdin:
        req = json.loads(line)
        out = answer(mode, req)
        if isinstance(out, str):
            print(out, flush=True)
            continue
        print(json.dumps({"id": req["id"], **out} if "id" not in out else out), flush=True)


if __name__ == "__main__":
    main()
