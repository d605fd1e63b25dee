#!/bin/sh
# A complete keyprov-lab shim adapter in POSIX shell: it puts the oathtool command
# (Debian package oathtool) into the otp-generator role.  It is the worked example of
# docs/adapters.md, and tests/harness/adapters/test_shell_example.py runs it.
#
# Protocol: one JSON request per line on stdin, one JSON answer per line on stdout,
# answers in request order, each echoing the request's "id".  Diagnostics go to stderr,
# which the lab keeps as evidence.  A real adapter would use a JSON parser; the params of
# otp-generator operations are flat, so sed is enough here.

field() { # field NAME LINE: the value of a flat JSON member (string or number)
    printf '%s\n' "$2" | sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p"
}

answer_otp() { # answer_otp ID COMMAND...: run oathtool, answer with its OTP or a refusal
    id=$1; shift
    if otp=$("$@" 2>"$errfile"); then
        printf '{"id": %s, "result": {"otp": "%s"}}\n' "$id" "$otp"
    else
        reason=$(tr -d '"\\' <"$errfile" | head -n 1)
        cat "$errfile" >&2
        printf '{"id": %s, "refused": {"status": "oathtool", "message": "%s"}}\n' "$id" "$reason"
    fi
}

errfile=$(mktemp) || exit 1
trap 'rm -f "$errfile"' EXIT

while IFS= read -r line; do
    id=$(field id "$line")
    op=$(field op "$line")
    secret=$(field secret_hex "$line")
    digits=$(field digits "$line")
    algorithm=$(field algorithm "$line")
    case "$op" in
    kplab.version)
        version=$(oathtool --version | head -n 1 | sed 's/.* //')
        printf '{"id": %s, "result": {"version": "%s"}}\n' "$id" "$version"
        ;;
    otp-generator.hotp)
        if [ "$algorithm" != "sha1" ]; then
            # RFC 4226 HOTP is HMAC-SHA-1; oathtool has no other hash for HOTP.
            printf '{"id": %s, "unsupported": "HOTP with %s"}\n' "$id" "$algorithm"
        else
            answer_otp "$id" oathtool --hotp --digits="$digits" --counter="$(field counter "$line")" "$secret"
        fi
        ;;
    otp-generator.totp)
        answer_otp "$id" oathtool --totp="$algorithm" --digits="$digits" \
            --time-step-size="$(field step "$line")s" --start-time="@$(field t0 "$line")" \
            --now="@$(field time "$line")" "$secret"
        ;;
    *)
        printf '{"id": %s, "unsupported": "no operation %s"}\n' "$id" "$op"
        ;;
    esac
done
