#!/bin/sh
# keyprov-lab shim template: put a vendor's PSKC importer, written in any language, into
# the pskc-consumer role.  Copy this file and pskc-consumer-template.toml, point
# VENDOR_IMPORT_COMMAND at your importer (in the .toml's [transport.env]), and run
#     kplab run --adapter-file my-importer.toml --adapter my-importer
# tests/harness/adapters/test_pskc_consumer_template.py runs this very file against a
# stand-in importer.  Needs jq (Debian package jq) and base64 (coreutils or busybox).
#
# What VENDOR_IMPORT_COMMAND must do (the contract this script translates):
#   invocation   $VENDOR_IMPORT_COMMAND DOCUMENT_FILE
#                The variable is split on blanks (no quoting), DOCUMENT_FILE is the PSKC
#                document exactly as the lab sent it; stdin is /dev/null.
#   secrets      Given as files, never on a command line where other users could read
#                them; each variable is set only when the lab sends that secret:
#                  KPLAB_KEY_HEX_FILE       pre-shared key, hex, no newline
#                  KPLAB_PASSWORD_FILE      PBKDF2 passphrase, UTF-8, no newline
#                  KPLAB_PRIVATE_KEY_FILE   PEM private key (asymmetric key transport)
#                The files live in a private temporary folder removed after the call.
#   success      exit 0 and print one JSON object per line, one per imported key, with
#                the flat KEY fields of harness/roles/pskc.py, e.g.
#                  {"id": "12345678", "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "secret_hex": "31323334"}
#                absent fields omitted, dates ISO 8601.  No lines means no keys.
#   refusal      exit 1..125 with the reason on stderr: the importer rejected the
#                document (bad MAC, wrong key, not PSKC).  Answered "refused", status
#                "vendor exit N", message = the first 1000 bytes of stderr.
#   anything     exit 0 with a line that is not a JSON object, exit 126/127 (cannot
#   else         run) or death by a signal: answered "fault", the importer blew up.
#   logs         stderr is copied to this script's stderr, which the lab keeps as
#                evidence of the call (the lab hides registered secrets in evidence,
#                but do not print key material on purpose).
# Optional: VENDOR_VERSION_COMMAND prints the importer's version on its first line.
#
# Protocol (docs/adapters.md): one JSON request per line on stdin, one JSON answer per
# line on stdout echoing the request's "id"; nothing else on stdout; EOF = shut down.

umask 077
set -f # no file name expansion, of VENDOR_IMPORT_COMMAND's words in particular

if ! command -v jq >/dev/null 2>&1; then
    echo "pskc-consumer-template: jq not found (Debian package jq)" >&2
    exit 2
fi
# shellcheck disable=SC2086 # the command is deliberately split on blanks
set -- $VENDOR_IMPORT_COMMAND
if [ $# -eq 0 ] || ! command -v "$1" >/dev/null 2>&1; then
    echo "pskc-consumer-template: VENDOR_IMPORT_COMMAND (${VENDOR_IMPORT_COMMAND:-unset}) is not a runnable command" >&2
    exit 2
fi

work=""
trap 'if [ -n "$work" ]; then rm -rf "$work"; fi' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# One jq call per request: the id, then op and params each base64-encoded on its own line
# (so any character survives, and secrets stay off every command line).
PARSE='(.id | tostring), (.op, .params.document_b64, .params.key_hex, .params.password, .params.private_key_pem
       | . // "" | tostring | @base64)'

unpack() { # unpack BASE64 [FILE]: decode one parsed member to stdout or FILE
    if [ -n "$2" ]; then printf '%s' "$1" | base64 -d >"$2"; else printf '%s' "$1" | base64 -d; fi
}

answer() { # answer JQ-ARGS... FILTER: print one answer object built by jq
    jq -cn --argjson id "$id" "$@"
}

decode() {
    work=$(mktemp -d) || { answer '{id: $id, fault: {type: "TemplateError", message: "mktemp failed"}}'; return; }
    if ! unpack "$document" | base64 -d >"$work/document.xml" 2>/dev/null; then
        answer '{id: $id, refused: {status: "InputError", message: "params.document_b64 must be base64"}}'
        return
    fi
    unpack "$key_hex" "$work/key_hex"
    unpack "$password" "$work/password"
    unpack "$private_key" "$work/private_key.pem"
    (
        [ -s "$work/key_hex" ] && export KPLAB_KEY_HEX_FILE="$work/key_hex"
        [ -s "$work/password" ] && export KPLAB_PASSWORD_FILE="$work/password"
        [ -s "$work/private_key.pem" ] && export KPLAB_PRIVATE_KEY_FILE="$work/private_key.pem"
        # shellcheck disable=SC2086
        exec $VENDOR_IMPORT_COMMAND "$work/document.xml" </dev/null >"$work/stdout" 2>"$work/stderr"
    )
    status=$?
    cat "$work/stderr" >&2
    if [ "$status" -eq 0 ]; then
        if ! jq -cs --argjson id "$id" \
            'if all(.[]; type == "object") then {id: $id, result: {keys: .}} else error("not objects") end' \
            <"$work/stdout" 2>/dev/null; then
            answer '{id: $id, fault: {type: "VendorOutput", message: "the importer exited 0 but its stdout is not one JSON object per line"}}'
        fi
    elif [ "$status" -le 125 ]; then
        dd bs=1000 count=1 <"$work/stderr" 2>/dev/null |
            jq -cRs --argjson id "$id" --arg status "vendor exit $status" \
                '{id: $id, refused: {status: $status, message: (rtrimstr("\n") | if . == "" then "(no message on stderr)" else . end)}}'
    elif [ "$status" -gt 128 ]; then
        answer --arg signal "$((status - 128))" '{id: $id, fault: {type: "VendorSignal", message: ("the importer was killed by signal " + $signal)}}'
    else
        answer --arg status "$status" '{id: $id, fault: {type: "VendorNotRunnable", message: ("the importer could not be run, exit " + $status)}}'
    fi
}

version() {
    if [ -z "$VENDOR_VERSION_COMMAND" ]; then
        answer '{id: $id, unsupported: "no VENDOR_VERSION_COMMAND"}'
        return
    fi
    # shellcheck disable=SC2086
    text=$($VENDOR_VERSION_COMMAND </dev/null 2>&1 | head -n 1)
    answer --arg v "$text" '{id: $id, result: {version: $v}}'
}

while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] || continue
    if ! parsed=$(printf '%s\n' "$line" | jq -r "$PARSE" 2>/dev/null); then
        echo "pskc-consumer-template: ignoring a request line that is not a JSON object" >&2
        continue
    fi
    { read -r id; read -r op; read -r document; read -r key_hex; read -r password; read -r private_key; } <<EOF
$parsed
EOF
    op=$(unpack "$op")
    case "$id" in
    '' | *[!0-9-]*)
        echo "pskc-consumer-template: ignoring a request without an integer id" >&2
        continue
        ;;
    esac
    case "$op" in
    pskc-consumer.decode) decode ;;
    kplab.version) version ;;
    *) answer --arg op "$op" '{id: $id, unsupported: ("no operation " + $op)}' ;;
    esac
    if [ -n "$work" ]; then
        rm -rf "$work"
        work=""
    fi
done
