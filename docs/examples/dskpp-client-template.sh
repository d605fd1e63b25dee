#!/bin/sh
# keyprov-lab shim template: put a vendor's DSKPP client command, written in any language,
# into the dskpp-client role.  Copy this file and dskpp-client-template.toml, point
# VENDOR_PROVISION_COMMAND (and, better, VENDOR_KEYS_COMMAND) at your client in the
# .toml's [transport.env], claim only the capabilities it has, and run
#     kplab run --adapter-file my-client.toml --adapter my-client --suite dskpp
# tests/harness/adapters/test_dskpp_client_template.py runs this very file against a
# stand-in client.  Needs jq (Debian package jq) and base64 (coreutils or busybox).
#
# What VENDOR_PROVISION_COMMAND must do (the contract this script translates):
#   invocation   $VENDOR_PROVISION_COMMAND URL
#                The variable is split on blanks (no quoting).  URL is the DSKPP server to
#                provision against (the lab's peer, RFC 6063 §7.2); stdin is /dev/null.
#   settings     Environment variables, each set only when the lab gives that setting:
#                  KPLAB_VARIANT                four-pass | two-pass (always set)
#                  KPLAB_PROTECTION             two-pass: key-transport | key-wrap | passphrase
#                  KPLAB_SHARED_KEY_NAME        ds:KeyName of the pre-shared key
#                  KPLAB_RENEW_KEY_ID           renew this stored key (its PSKC Key Id)
#                  KPLAB_ENCRYPTION_ALGORITHMS  URIs to offer, blank-separated, in order
#                  KPLAB_MAC_ALGORITHMS         likewise for MAC algorithms
#   secrets      Given as files, never on a command line; each set only when sent:
#                  KPLAB_AC_FILE                the Authentication Code, as a user types it
#                  KPLAB_SHARED_KEY_HEX_FILE    the pre-shared key K_SHARED, hex
#                  KPLAB_PASSPHRASE_FILE        the passphrase (passphrase-based key wrap)
#                  KPLAB_TRIGGER_FILE           a <KeyProvTrigger> document to start from
#                The files live in a private temporary folder removed after the call.
#   success      exit 0 and print one JSON object:
#                  {"status": "Success", "key_id": "...", "fingerprint": "fp:...",
#                   "hotp": ["...", "...", "..."]}
#                fingerprint is "fp:" + the first 16 hex digits of SHA-256 over the token
#                key; hotp the HOTP values at counters 0, 1, 2.  Give either or both, so
#                the lab can compare with the server without the key leaving the device.
#   refusal      exit 1..125: the run failed - the server refused (its status) or the
#                client refused the server's answer.  Print one JSON object
#                {"status": "<server's DSKPP status, or Error>", "error": "why"} if you
#                can; otherwise status is "Error" and error is stderr (first 1000 bytes).
#   anything     exit 126/127 (cannot run) or death by a signal: answered "fault".
#   else
#   stored       Whether the call changed the device's keys.  With VENDOR_KEYS_COMMAND the
#                lab compares the key list before and after the call (preferred: it does
#                not rely on the client's word); else a "stored" member of the JSON; else
#                status == "Success".
# VENDOR_KEYS_COMMAND (optional): print one JSON object {"key_id", "fingerprint"} per key
# the device holds; answers dskpp-client.keys (without it that operation is unsupported
# and the misbehaviour cases can only trust "stored").
# VENDOR_VERSION_COMMAND (optional) prints the client's version on its first line.
#
# Protocol (docs/adapters.md): one JSON request per line on stdin, one JSON answer per
# line on stdout echoing the request's "id"; nothing else on stdout; EOF = shut down.

umask 077
set -f # no file name expansion, of the vendor commands' words in particular

if ! command -v jq >/dev/null 2>&1; then
    echo "dskpp-client-template: jq not found (Debian package jq)" >&2
    exit 2
fi
# shellcheck disable=SC2086 # the command is deliberately split on blanks
set -- $VENDOR_PROVISION_COMMAND
if [ $# -eq 0 ] || ! command -v "$1" >/dev/null 2>&1; then
    echo "dskpp-client-template: VENDOR_PROVISION_COMMAND (${VENDOR_PROVISION_COMMAND:-unset}) is not a runnable command" >&2
    exit 2
fi

work=""
trap 'if [ -n "$work" ]; then rm -rf "$work"; fi' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# One jq call per request: the id, then each member base64-encoded on its own line.
PARSE='(.id | tostring), (.op, .params.url, .params.variant, .params.protection, .params.shared_key_name,
       .params.renew_key_id, ((.params.encryption_algorithms // []) | join(" ")),
       ((.params.mac_algorithms // []) | join(" ")), .params.authentication_code, .params.shared_key_hex,
       .params.passphrase, .params.trigger_b64
       | . // "" | tostring | @base64)'

unpack() { # unpack BASE64 [FILE]: decode one parsed member to stdout or FILE
    if [ -n "$2" ]; then printf '%s' "$1" | base64 -d >"$2"; else printf '%s' "$1" | base64 -d; fi
}

answer() { # answer JQ-ARGS... FILTER: print one answer object built by jq
    jq -cn --argjson id "$id" "$@"
}

list_keys() { # list_keys FILE: the device's keys as one JSON array in FILE ("null" without the command)
    if [ -z "$VENDOR_KEYS_COMMAND" ]; then
        echo null >"$1"
        return 0
    fi
    # shellcheck disable=SC2086
    $VENDOR_KEYS_COMMAND </dev/null 2>>"$work/stderr" | jq -cs 'sort_by(.key_id)' >"$1" 2>/dev/null || echo '"unreadable"' >"$1"
}

provision() {
    work=$(mktemp -d) || { answer '{id: $id, fault: {type: "TemplateError", message: "mktemp failed"}}'; return; }
    : >"$work/stderr"
    unpack "$ac" "$work/ac"
    unpack "$shared_key" "$work/shared_key_hex"
    unpack "$passphrase" "$work/passphrase"
    if [ -n "$trigger" ] && ! unpack "$trigger" | base64 -d >"$work/trigger.xml" 2>/dev/null; then
        answer '{id: $id, refused: {status: "InputError", message: "params.trigger_b64 must be base64"}}'
        return
    fi
    list_keys "$work/before"
    (
        KPLAB_VARIANT=$(unpack "$variant")
        export KPLAB_VARIANT="${KPLAB_VARIANT:-four-pass}"
        for pair in "KPLAB_PROTECTION:$protection" "KPLAB_SHARED_KEY_NAME:$key_name" "KPLAB_RENEW_KEY_ID:$renew" \
            "KPLAB_ENCRYPTION_ALGORITHMS:$encryption" "KPLAB_MAC_ALGORITHMS:$mac"; do
            value=$(unpack "${pair#*:}")
            [ -n "$value" ] && export "${pair%%:*}=$value"
        done
        [ -s "$work/ac" ] && export KPLAB_AC_FILE="$work/ac"
        [ -s "$work/shared_key_hex" ] && export KPLAB_SHARED_KEY_HEX_FILE="$work/shared_key_hex"
        [ -s "$work/passphrase" ] && export KPLAB_PASSPHRASE_FILE="$work/passphrase"
        [ -s "$work/trigger.xml" ] && export KPLAB_TRIGGER_FILE="$work/trigger.xml"
        # shellcheck disable=SC2086
        exec $VENDOR_PROVISION_COMMAND "$(unpack "$url")" </dev/null >"$work/stdout" 2>>"$work/stderr"
    )
    status=$?
    list_keys "$work/after"
    cat "$work/stderr" >&2
    if [ "$status" -gt 125 ]; then
        if [ "$status" -gt 128 ]; then
            answer --arg s "$((status - 128))" '{id: $id, fault: {type: "VendorSignal", message: ("the client was killed by signal " + $s)}}'
        else
            answer --arg s "$status" '{id: $id, fault: {type: "VendorNotRunnable", message: ("the client could not be run, exit " + $s)}}'
        fi
        return
    fi
    stderr_text=$(dd bs=1000 count=1 <"$work/stderr" 2>/dev/null)
    # shellcheck disable=SC2016 # jq program
    if ! jq -c --argjson id "$id" --argjson exit "$status" --arg stderr "$stderr_text" \
        --slurpfile before "$work/before" --slurpfile after "$work/after" -s '
        (if length == 1 and (.[0] | type) == "object" then .[0] else null end) as $out
        | if $exit == 0 and $out == null then error("no JSON object")
          else ($out // {}) as $o
          | ($o.status // (if $exit == 0 then "Success" else "Error" end)) as $status
          | (if $before[0] != null and ($before[0] | type) == "array" and ($after[0] | type) == "array"
             then $before[0] != $after[0]
             elif ($o.stored | type) == "boolean" then $o.stored
             else $status == "Success" end) as $stored
          | {id: $id, result: ($o + {status: $status, stored: $stored}
              + (if $exit != 0 and ($o.error == null) then {error: (if $stderr == "" then "(no message)" else $stderr end)}
                 else {} end))}
          end' <"$work/stdout" 2>/dev/null; then
        answer '{id: $id, fault: {type: "VendorOutput", message: "the client exited 0 but did not print one JSON object"}}'
    fi
}

keys() {
    if [ -z "$VENDOR_KEYS_COMMAND" ]; then
        answer '{id: $id, unsupported: "no VENDOR_KEYS_COMMAND"}'
        return
    fi
    work=$(mktemp -d) || { answer '{id: $id, fault: {type: "TemplateError", message: "mktemp failed"}}'; return; }
    # shellcheck disable=SC2086
    if ! $VENDOR_KEYS_COMMAND </dev/null >"$work/stdout" 2>"$work/stderr"; then
        cat "$work/stderr" >&2
        answer '{id: $id, fault: {type: "VendorKeys", message: "VENDOR_KEYS_COMMAND failed"}}'
        return
    fi
    jq -cs --argjson id "$id" '{id: $id, result: {keys: .}}' <"$work/stdout" 2>/dev/null ||
        answer '{id: $id, fault: {type: "VendorOutput", message: "VENDOR_KEYS_COMMAND did not print JSON objects"}}'
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
        echo "dskpp-client-template: ignoring a request line that is not a JSON object" >&2
        continue
    fi
    {
        read -r id; read -r op; read -r url; read -r variant; read -r protection; read -r key_name; read -r renew
        read -r encryption; read -r mac; read -r ac; read -r shared_key; read -r passphrase; read -r trigger
    } <<EOF
$parsed
EOF
    op=$(unpack "$op")
    case "$id" in
    '' | *[!0-9-]*)
        echo "dskpp-client-template: ignoring a request without an integer id" >&2
        continue
        ;;
    esac
    case "$op" in
    dskpp-client.provision) provision ;;
    dskpp-client.keys) keys ;;
    kplab.version) version ;;
    *) answer --arg op "$op" '{id: $id, unsupported: ("no operation " + $op)}' ;;
    esac
    if [ -n "$work" ]; then
        rm -rf "$work"
        work=""
    fi
done
