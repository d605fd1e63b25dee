"""Reference OTP algorithms: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287).

Modules: ``crypto`` (HMAC/hash), ``hotp``, ``totp``, ``ocra`` (suite parsing, DataInput,
response), ``params`` (the otp-generator operation contract) and ``adapter`` (the
``reference-otp`` adapter).  Sans-IO and clock-free: every function takes its counter,
time or time-step value as an argument.  Functions are not re-exported here, so that
``reference.otp.hotp`` always names the module.
"""
