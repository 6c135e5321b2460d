#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

    python3 tests/fuzz/make_corpus.py

The frames are built here from PROTOCOL.md, independently of lib/wire.cpp (as raw_client.py
does). The request-handler seeds name the fixtures of fuzz_request_handler.cpp and carry the
TOTP codes of their secrets at its fixed clock (K_NOW), and their backup codes, so that the
fuzzer starts from requests that succeed. Keep K_NOW, the secrets, the backup codes and the
password in step with that file.
"""
import hashlib
import hmac
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
K_NOW = 1700000000
PASSWORD = "fuzz-password"
SECRETS = {"alice": b"12345678901234567890", "bob": b"bob-secret-012345678",
           "carol": b"carol-secret-0123456", "erin": b"erin-secret-01234567",
           "heidi": b"heidi-secret-0123456", "daemon": b"daemon-secret-012345"}
BACKUP_CODES_OF_ALICE = ["ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01", "2345-6789-ABCD"]

PING, STATUS, AUTHENTICATE, ENROLL_BEGIN, ENROLL_CONFIRM = 1, 2, 3, 4, 5
BACKUP_CODES, DISABLE, ENROLL_REPLACE = 6, 7, 8
ENROLL_PROMPT = 9
ADMIN_LIST, ADMIN_DISABLE, ADMIN_UNLOCK, ADMIN_PASS, ADMIN_LOG, ADMIN_IMPORT = range(0x10, 0x16)
ADMIN_POLICY, ADMIN_ENFORCE = 0x16, 0x17
ADMIN_HEALTH = 0x1A
ERROR = 0xFF
REPLY = 0x80


def totp(secret, now=K_NOW, digits=6, period=30):
    mac = hmac.new(secret, struct.pack(">Q", now // period), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, value % 10 ** digits)


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def frame(msg_type, payload=b"", version=1):
    body = bytes([version, msg_type]) + payload
    return struct.pack(">I", len(body)) + body


def authenticate(user, mode, password, code, service="sshd", rhost="192.0.2.7", tty="ssh"):
    return frame(AUTHENTICATE, string(user) + string(service) + string(rhost) + string(tty)
                 + bytes([mode]) + string(password) + string(code))


def write(target, files):
    directory = os.path.join(HERE, "corpus", target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data if isinstance(data, bytes) else data.encode())


def account_state(state=2, failures=0, backup_codes=10, reason="no policy requires it"):
    """The fields of STATUS_REPLY (and of each ADMIN_LIST entry)."""
    return (bytes([state]) + struct.pack(">QII", K_NOW - 86400, failures, 0)
            + bytes([0, backup_codes]) + struct.pack(">QQ", 0, K_NOW - 60)
            + bytes([0, 0]) + struct.pack(">Q", 0) + string(reason))


def offer(account="alice"):
    """The fields of ENROLL_SECRET."""
    return (string("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") + string("Studio") + string(account)
            + string("SHA1") + bytes([6]) + struct.pack(">IQ", 30, K_NOW + 600))


def audit_entry(entry_id, action, outcome):
    return (struct.pack(">QQI", entry_id, K_NOW, 0) + string("root") + string(action)
            + string("alice") + string("sshd") + string("192.0.2.7") + string("ssh")
            + string(outcome) + string("password and code"))


def import_entry(user, codes=()):
    return (string(user) + string("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") + string("SHA1")
            + bytes([6]) + struct.pack(">I", 30) + bytes([len(codes)])
            + b"".join(string(code) for code in codes))


def protocol_frames():
    backup_codes = ["ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01"]
    return {
        "ping": frame(PING),
        "pong": frame(PING | REPLY, bytes([1])),
        "status": frame(STATUS, string("alice")),
        "status-reply": frame(STATUS | REPLY, account_state(failures=3)),
        "authenticate": authenticate("alice", 2, PASSWORD, "123456"),
        "authenticate-code-only": authenticate("alice", 3, "", "123456", rhost="", tty=""),
        "auth-reply": frame(AUTHENTICATE | REPLY, bytes([3]) + struct.pack(">I", 32) + b"\0\0"
                            + struct.pack(">Q", 0)),
        "auth-reply-backup": frame(AUTHENTICATE | REPLY, bytes([0, 0, 0, 0, 0, 2, 9])
                                   + struct.pack(">Q", 0)),
        "auth-reply-grace": frame(AUTHENTICATE | REPLY, bytes([0, 0, 0, 0, 0, 0, 0])
                                  + struct.pack(">Q", K_NOW + 3600)),
        "auth-reply-enroll-required": frame(AUTHENTICATE | REPLY, bytes([6]) + bytes(6)
                                            + struct.pack(">Q", 1)),
        "enroll-prompt": frame(ENROLL_PROMPT, string("alice")),
        "enroll-prompt-reply": frame(ENROLL_PROMPT | REPLY, struct.pack(">Q", K_NOW + 600)
                                     + bytes([3]) + string("Set it up now:")
                                     + string("\u2588\u2580\u2584 ") + string("(otpauth://totp/x)")),
        "admin-policy": frame(ADMIN_POLICY, string("vfx1")),
        "admin-policy-reply": frame(ADMIN_POLICY | REPLY, bytes([1, 2])
                                    + string("container ou=vfx,dc=studio,dc=example")
                                    + string("uid=vfx1,ou=vfx,dc=studio,dc=example")
                                    + struct.pack(">QQ", K_NOW - 60, K_NOW + 3600)),
        "admin-enforce": frame(ADMIN_ENFORCE, bytes([1]) + struct.pack(">I", 7200) + bytes([0])
                               + string("dave")),
        "admin-enforce-reply": frame(ADMIN_ENFORCE | REPLY, bytes([0, 1]) + struct.pack(">IQ", 7200, K_NOW)
                                     + string("dave")),
        "admin-health": frame(ADMIN_HEALTH),
        "admin-health-reply": frame(ADMIN_HEALTH | REPLY, bytes([1]) + string("ldaps://primary")
                                    + bytes([1, 1]) + string("ldaps://replica") + bytes([0])
                                    + string("ldaps://replica: Can't contact LDAP server")
                                    + bytes([1]) + struct.pack(">IIQQ", 28800, 12, K_NOW, K_NOW - 600)),
        "enroll-begin": frame(ENROLL_BEGIN, string("alice")),
        "enroll-secret": frame(ENROLL_BEGIN | REPLY, offer()),
        "enroll-confirm": frame(ENROLL_CONFIRM, string("alice") + string("123456")),
        "enroll-result": frame(ENROLL_CONFIRM | REPLY, bytes([0])),
        "backup-codes": frame(BACKUP_CODES, string("alice") + string("123456")),
        "backup-codes-reply": frame(BACKUP_CODES | REPLY,
                                    bytes([0]) + struct.pack(">I", 0) + bytes([len(backup_codes)])
                                    + b"".join(string(code) for code in backup_codes)),
        "disable": frame(DISABLE, string("alice") + string("ABCD-EFGH-JKMN")),
        "disable-reply": frame(DISABLE | REPLY, bytes([2]) + struct.pack(">I", 16)),
        "enroll-replace": frame(ENROLL_REPLACE, string("alice") + string("123456")),
        "enroll-replace-reply": frame(ENROLL_REPLACE | REPLY,
                                      bytes([0]) + struct.pack(">I", 0) + offer()),
        "enroll-replace-refused": frame(ENROLL_REPLACE | REPLY,
                                        bytes([1]) + struct.pack(">I", 0) + string("") * 4
                                        + bytes([0]) + struct.pack(">IQ", 0, 0)),
        "admin-list": frame(ADMIN_LIST, string("")),
        "admin-list-reply": frame(ADMIN_LIST | REPLY,
                                  bytes([2]) + string("alice") + account_state()
                                  + string("bob") + account_state(state=1, backup_codes=0)
                                  + bytes([1])),
        "admin-disable": frame(ADMIN_DISABLE, string("alice")),
        "admin-disable-reply": frame(ADMIN_DISABLE | REPLY, bytes([1])),
        "admin-unlock": frame(ADMIN_UNLOCK, string("alice")),
        "admin-unlock-reply": frame(ADMIN_UNLOCK | REPLY, bytes([0])),
        "admin-pass": frame(ADMIN_PASS, string("alice") + struct.pack(">I", 3600)),
        "admin-pass-reply": frame(ADMIN_PASS | REPLY, bytes([0]) + struct.pack(">Q", K_NOW + 3600)),
        "admin-log": frame(ADMIN_LOG, string("") + struct.pack(">QQ", 0, 0)),
        "admin-log-reply": frame(ADMIN_LOG | REPLY,
                                 bytes([2]) + audit_entry(1, "login", "success")
                                 + audit_entry(2, "admin-pass", "granted") + bytes([0])),
        "admin-import": frame(ADMIN_IMPORT, bytes([0, 2]) + import_entry("alice")
                              + import_entry("bob", ["12345678", "87654321"])),
        "admin-import-reply": frame(ADMIN_IMPORT | REPLY, bytes([2, 1])),
        "error": frame(ERROR, struct.pack(">H", 4) + string("permission denied")),
    }


def handler_inputs():
    root, user = b"\x00", b"\x01"  # first byte: the peer (uid 0 or uid 1000)
    alice, bob = SECRETS["alice"], SECRETS["bob"]
    return {
        "ping-root": root + frame(PING),
        "ping-user": user + frame(PING),
        "status-alice": root + frame(STATUS, string("alice")),
        "status-carol-throttled": root + frame(STATUS, string("carol")),
        "status-other-as-user": user + frame(STATUS, string("root")),
        "auth-alice-success": root + authenticate("alice", 2, PASSWORD, totp(alice)),
        "auth-alice-next-step": root + authenticate("alice", 2, PASSWORD, totp(alice, K_NOW + 30)),
        "auth-alice-wrong-code": root + authenticate("alice", 2, PASSWORD, "000000"),
        "auth-alice-wrong-password": root + authenticate("alice", 2, "nope", totp(alice)),
        "auth-alice-code-only": root + authenticate("alice", 3, "", totp(alice), rhost="", tty=""),
        "auth-alice-password-only": root + authenticate("alice", 1, PASSWORD, ""),
        "auth-carol-throttled": root + authenticate("carol", 2, PASSWORD, "123456"),
        "auth-heidi-locked": root + authenticate("heidi", 2, PASSWORD, totp(SECRETS["heidi"])),
        "auth-alice-backup-code": root + authenticate("alice", 2, PASSWORD,
                                                      BACKUP_CODES_OF_ALICE[0]),
        "auth-alice-backup-code-lowercase": root + authenticate("alice", 3, "",
                                                                "pqrs tvwx yzo1"),
        "auth-alice-wrong-backup-code": root + authenticate("alice", 2, PASSWORD,
                                                            "ZZZZ-ZZZZ-ZZZZ"),
        "auth-dave-not-enrolled": root + authenticate("dave", 1, PASSWORD, ""),
        "auth-dave-code-only": root + authenticate("dave", 3, "", "123456"),
        "auth-alice-as-user": user + authenticate("alice", 2, PASSWORD, totp(alice)),
        "enroll-begin-root": root + frame(ENROLL_BEGIN, string("root")),
        "enroll-begin-unknown": root + frame(ENROLL_BEGIN, string("alice")),
        "enroll-begin-enrolled": root + frame(ENROLL_BEGIN, string("daemon")),
        "enroll-confirm-bob": root + frame(ENROLL_CONFIRM, string("bob") + string(totp(bob))),
        "enroll-confirm-bob-wrong": root + frame(ENROLL_CONFIRM, string("bob") + string("999999")),
        "enroll-confirm-erin-expired": root + frame(ENROLL_CONFIRM,
                                                    string("erin") + string("123456")),
        "enroll-confirm-none": root + frame(ENROLL_CONFIRM, string("alice") + string("123456")),
        "backup-codes-alice": root + frame(BACKUP_CODES, string("alice") + string(totp(alice))),
        "disable-alice": root + frame(DISABLE, string("alice") + string(totp(alice))),
        "disable-alice-backup-code": root + frame(DISABLE, string("alice")
                                                  + string(BACKUP_CODES_OF_ALICE[2])),
        "status-heidi-locked": root + frame(STATUS, string("heidi")),
        "enroll-replace-alice": root + frame(ENROLL_REPLACE,
                                             string("alice") + string(totp(alice))),
        "admin-list": root + frame(ADMIN_LIST, string("")),
        "admin-list-as-user": user + frame(ADMIN_LIST, string("")),
        "admin-disable-alice": root + frame(ADMIN_DISABLE, string("alice")),
        "admin-unlock-carol": root + frame(ADMIN_UNLOCK, string("carol")),
        "admin-pass-alice": root + frame(ADMIN_PASS, string("alice") + struct.pack(">I", 3600)),
        "admin-log": root + frame(ADMIN_LOG, string("") + struct.pack(">QQ", 0, 0)),
        "admin-import": root + frame(ADMIN_IMPORT, bytes([1, 2]) + import_entry("alice")
                                     + import_entry("frank", ["12345678"])),
        "enroll-prompt-bob": root + frame(ENROLL_PROMPT, string("bob")),
        "enroll-prompt-enrolled": root + frame(ENROLL_PROMPT, string("daemon")),
        "admin-policy-alice": root + frame(ADMIN_POLICY, string("alice")),
        "admin-policy-as-user": user + frame(ADMIN_POLICY, string("alice")),
        "admin-enforce-query": root + frame(ADMIN_ENFORCE, bytes([0]) + struct.pack(">I", 0)
                                            + bytes([0]) + string("")),
        "admin-enforce-on-forced": root + frame(ADMIN_ENFORCE, bytes([1]) + struct.pack(">I", 60)
                                                + bytes([1]) + string("alice")),
        "admin-enforce-off": root + frame(ADMIN_ENFORCE, bytes([2]) + struct.pack(">I", 0)
                                          + bytes([0]) + string("")),
        "admin-health": root + frame(ADMIN_HEALTH),
        "bad-version": root + frame(STATUS, string("alice"), version=2),
        "unknown-type": root + frame(0x7E),
        "trailing-byte": root + frame(STATUS, string("alice") + b"\x00"),
    }


CONFIG_FULL = """# every key
socket_path = /run/studio2fa/studio2fad.sock
db_path = /var/lib/studio2fa/studio2fa.db
key_path = /etc/studio2fa/master.key
issuer = Studio Example
totp_algorithm = SHA256
totp_digits = 8
totp_period = 60
totp_window = 2
enroll_timeout = 15m
throttle_after = 3
throttle_base = 5s
throttle_max = 1h
max_connections = 256
request_timeout = 10s
idle_timeout = 2m
worker_threads = 8
lockout_after = 10
backup_lockout_after = 5
admin_group = studio-admins
audit_retention = 90d
grace_period = 3d
require_groups = render leads !contractors
ldap_uri = ldap://ldap1.example ldaps://ldap2.example:636 ldapi:///
ldap_base = dc=studio,dc=example
ldap_user_base = ou=people,dc=studio,dc=example
ldap_user_filter = (&(objectClass=posixAccount)(!(loginShell=/bin/false)))
ldap_user_attribute = uid
ldap_group_base = ou=groups,dc=studio,dc=example
ldap_group_filter = (objectClass=groupOfNames)
ldap_member_uid_attribute = memberUid
ldap_member_attributes = member uniqueMember
ldap_bind_dn = cn=studio2fad,ou=services,dc=studio,dc=example
ldap_bind_password_file = /etc/studio2fa/ldap.password
ldap_sasl_external = no
ldap_starttls = yes
ldap_ca_file = /etc/ssl/certs/ca.pem
ldap_tls_verify = yes
ldap_allow_cleartext = no
ldap_connect_timeout = 500ms
ldap_timeout = 3s
ldap_retry_interval = 1m
ldap_nesting_depth = 4
policy_cache_ttl = 10m
"""


def config_texts():
    with open(os.path.join(HERE, "..", "..", "conf", "studio2fad.conf")) as sample:
        sample_text = sample.read()
    return {
        "sample": sample_text,
        "full": CONFIG_FULL,
        "minimal": "issuer = Studio\n",
        "empty-admin-group": "admin_group =\nlockout_after = 0\n",
        "durations": "enroll_timeout = 1d\r\nthrottle_base = 90\nthrottle_max = 7d\n",
        "lowercase-algorithm": "\t totp_algorithm = sha512 \n#comment\n\n",
        "bad-key": "no_such_key = 1\n",
        "duplicate": "issuer = a\nissuer = b\n",
        "base-over-max": "throttle_base = 10m\nthrottle_max = 5m\n",
        "https-gateways": "sms_url = https://gw.example/sms?a=1\n"
                          "sms_body_template = To={number}&From=%2B15005550006&Body={message}\n"
                          "sms_auth_header_file = /etc/studio2fa/gw.auth\n"
                          "voice_url = https://gw.example/call\nvoice_content_type = json\n"
                          'voice_body_template = {"to": "{number}", "say": "{message}"}\n',
        "cleartext": "ldap_uri = ldap://x\nldap_base = dc=x\nldap_starttls = no\n",
        "sasl-and-bind-dn": "ldap_uri = ldapi:///\nldap_base = dc=x\nldap_sasl_external = yes\n"
                            "ldap_bind_dn = cn=a,dc=x\nldap_bind_password_file = /p\n",
    }


def base32_texts():
    return {
        "rfc-key": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "grouped-lowercase": "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "dashes": "JBSW-Y3DP-EHPK-3PXP",
        "padded": "MZXW6===",
        "one-byte": "MY======",
        "code6": "123456",
        "code8-spaced": "1234 5678",
        "issuer-unicode": "\x01Studio Caf\u00e9: B\u00fcro/Paris?&=",
    }


def directory_names():
    base = "dc=studio,dc=example"
    return {
        "user-in-ou": base + "\0uid=vfx1,ou=vfx,ou=people," + base,
        "nested-ous": base + "\0uid=ctr1,ou=fx,ou=contractors,ou=people," + base,
        "escaped-comma": base + "\0cn=Smith\\, John,ou=people," + base,
        "mixed-case-base": base + "\0uid=a,OU=People,DC=Studio,DC=Example",
        "multi-valued-rdn": base + "\0cn=a+uid=b,ou=people," + base,
        "hex-value": base + "\0uid=#04024869,ou=people," + base,
        "outside-base": base + "\0uid=a,dc=other,dc=example",
        "no-base": "uid=a,ou=people," + base,
    }


def phone_numbers():
    return {
        "plain": "+447946000958",
        "spaced": "+44 7946 000958",
        "parenthesised": "+1 (415) 555-0100",
        "dotted": "+33.1.23.45.67.89",
        "shortest": "+6831234",
        "longest": "+123456789012345",
        "trunk-prefix": "+44 (0)20 7946 0958",
        "no-plus": "00447946000958",
    }


def ldap_entries():
    """Items NAME 0x01 VALUE, separated by NUL (fuzz_ldap_record_codec.cpp)."""
    def entry(*pairs):
        return "\0".join(name + "\x01" + value for name, value in pairs).encode("latin-1")
    head = (("studio2faUser", "alice"), ("studio2faRevision", "7"))
    return {
        "minimal": entry(*head),
        "enrolled": entry(*head, ("studio2faSecret", "\x01sealed-blob\xff"),
                          ("studio2faTotpParameters", "SHA256 8 60"),
                          ("studio2faEnrolledAt", "1700000000"), ("studio2faLastStep", "56666666"),
                          ("studio2faBackupCode", "A" * 32), ("studio2faBackupCode", "B" * 32),
                          ("studio2faFailures", "2"), ("studio2faLockState", "second-factor"),
                          ("studio2faPassUntil", "1700100000"), ("studio2faGraceUntil", "1")),
        "pending": entry(*head, ("studio2faPendingSecret", "pending"),
                         ("studio2faPendingParameters", "SHA1 6 30"),
                         ("studio2faPendingCreatedAt", "1700000000")),
        "phone": entry(*head, ("studio2faPhone", "+447946004567"),
                       ("studio2faPhoneMethods", "sms voice"),
                       ("studio2faPhoneEnrolledAt", "1700000100"),
                       ("studio2faPendingPhone", "+14155550100"),
                       ("studio2faPendingPhoneMethods", "voice"),
                       ("studio2faPhoneCode", "\xa5" * 32),
                       ("studio2faPhoneCodeState", "confirm 1700000200 1700000500 2"),
                       ("studio2faPhoneSends", "1700000000 3")),
        "mixed-case-and-unknown": entry(("STUDIO2FAUSER", "bob"), ("studio2farevision", "3"),
                                        ("objectClass", "studio2faEnrollment"),
                                        ("entryCSN", "20261203000000.000000Z#000000#000#000000")),
    }


def body_templates():
    value = "\n042917 is your Studio code. A&B=C+D \"q\" \\ caf\u00e9"
    return {
        "twilio-form": "fTo={number}&From=%2B15005550006&Body={message}" + value,
        "form-with-kind": "fto={number}&text={message}&channel={kind}" + value,
        "json-object": 'j{"to": "{number}", "text": "{message}", "channel": "{kind}"}' + value,
        "json-nested": 'j{"messages": [{"to": ["{number}"], "body": "code: {message}"}], "n": 1}'
                       + value,
        "json-escaped-quote": 'j{"a": "say \\"{message}\\"", "to": "{number}"}' + value,
        "json-outside-string": 'j{"to": {number}, "text": "{message}"}' + value,
        "form-plus": "fto={number}&from=+1555&m={message}" + value,
        "unknown-placeholder": "fto={number}&m={message}&x={code}" + value,
    }


def main():
    write("fuzz_protocol", protocol_frames())
    write("fuzz_request_handler", handler_inputs())
    write("fuzz_config", config_texts())
    write("fuzz_base32_otpauth", base32_texts())
    write("fuzz_directory_names", directory_names())
    write("fuzz_phone_number", phone_numbers())
    write("fuzz_ldap_record_codec", ldap_entries())
    write("fuzz_body_template", body_templates())


if __name__ == "__main__":
    main()
