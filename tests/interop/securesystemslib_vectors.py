#!/usr/bin/python3
"""Interoperability vectors between Aloft and securesystemslib (Debian 12: 0.26).

  securesystemslib_vectors.py emit OUT.json   vectors made by securesystemslib, for
                                              `aloft-interop-tool verify`
  securesystemslib_vectors.py verify IN.json  checks vectors from `aloft-interop-tool emit`

Run it with /usr/bin/python3: it needs Debian's python3-securesystemslib and
python3-cryptography (scripts/install-deps), which a pyenv or venv python does not see.
`verify` prints one line per check and exits 1 if any failed; 2 means it could not run.

The vectors file, written by both sides (tests/interop/interop_tool.cpp reads and writes the
same shape):

  {"producer": "...",
   "canonical": [{"name": str, "input": <JSON text>, "canonical": <its canonical JSON>}],
   "keys": [{"name": str, "key": <TUF key object>, "keyid": <hex>,
             "message": <hex>, "signature": <hex>}],
   "root": {"metadata": <text of a root.json, as a repository serves it>,
            "signed_canonical": <canonical JSON of its "signed" object>}}

The root has ed25519, ECDSA and RSA root keys with threshold 3 and one signature from each.

"keyid" is TUF's key ID as python-tuf and securesystemslib's SSlibKey use it (and as
Aloft's PublicKey::ComputeKeyId computes it): hex SHA-256 of the canonical JSON of
{"keytype", "scheme", "keyval": {"public"}}. securesystemslib 0.26's legacy keys API (keys.py)
computes its "keyid" over a dict that also has "keyid_hash_algorithms": ["sha256", "sha512"],
so that ID differs; emit records it as "legacy_keyid", for information only.
"""

import binascii
import copy
import datetime
import hashlib
import json
import os
import sys

try:
    import securesystemslib
    from securesystemslib import ed25519_keys, formats, keys
    from securesystemslib._vendor.ed25519 import ed25519 as pure_ed25519
    from securesystemslib.signer import Signature, SSlibKey
except ImportError as e:
    sys.stderr.write(
        f"securesystemslib_vectors.py: {e}\n"
        f"  {sys.executable} cannot import securesystemslib; install python3-securesystemslib\n"
        "  and python3-cryptography (scripts/install-deps) and run this with /usr/bin/python3\n"
    )
    sys.exit(2)

SPEC_VERSION = "1.0.31"
ROOT_THRESHOLD = 3


# --- keys ---------------------------------------------------------------------------------


def modern_keyid(key):
    """TUF's key ID (python-tuf, SSlibKey, Aloft): only keytype, scheme and keyval.public."""
    core = {
        "keytype": key["keytype"],
        "scheme": key["scheme"],
        "keyval": {"public": key["keyval"]["public"]},
    }
    return hashlib.sha256(formats.encode_canonical(core).encode("utf-8")).hexdigest()


def legacy_keyid(key):
    """securesystemslib 0.26 keys.py's ID: the dict also carries keyid_hash_algorithms."""
    meta = keys.format_keyval_to_metadata(
        key["keytype"], key["scheme"], {"public": key["keyval"]["public"]}
    )
    return hashlib.sha256(formats.encode_canonical(meta).encode("utf-8")).hexdigest()


class SslibPrivateKey:
    """A securesystemslib key dict (keyval holds "private") and how to sign with it.

    securesystemslib 0.26 generates and signs ed25519 only through PyNaCl (python3-nacl, a
    Recommends that install-deps does not pull in). Without it, the ed25519 key is made and
    used with securesystemslib's own vendored pure-Python ed25519, the code it verifies
    ed25519 with when PyNaCl is absent: still not OpenSSL, so still another implementation.
    """

    def __init__(self, name, key_dict, sign):
        self.name = name
        self.key_dict = key_dict
        self._sign = sign

    @property
    def public(self):
        """The public key as TUF metadata lists it (python-tuf's form)."""
        return {
            "keytype": self.key_dict["keytype"],
            "scheme": self.key_dict["scheme"],
            "keyval": {"public": self.key_dict["keyval"]["public"]},
        }

    @property
    def keyid(self):
        return modern_keyid(self.key_dict)

    def sign(self, data):
        """Hex signature over bytes `data`."""
        return self._sign(data)


def _create_signature(key_dict):
    return lambda data: keys.create_signature(key_dict, data)["sig"]


def generate_ed25519():
    if ed25519_keys.NACL:
        key = keys.generate_ed25519_key()
        return SslibPrivateKey("ed25519 (PyNaCl)", key, _create_signature(key))
    seed = os.urandom(32)
    public = pure_ed25519.publickey_unsafe(seed)
    key = {
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": {"public": public.hex(), "private": seed.hex()},
    }
    key["keyid"] = legacy_keyid(key)

    def sign(data):
        # "unsafe" = not constant-time; fine for test vectors made from a throwaway key.
        return pure_ed25519.signature_unsafe(data, seed, public).hex()

    return SslibPrivateKey("ed25519 (vendored pure-Python)", key, sign)


def generate_keys():
    ecdsa = keys.generate_ecdsa_key()  # ecdsa-sha2-nistp256
    rsa = keys.generate_rsa_key(scheme="rsassa-pss-sha256")  # 3072 bits
    return [
        generate_ed25519(),
        SslibPrivateKey("ecdsa", ecdsa, _create_signature(ecdsa)),
        SslibPrivateKey("rsa", rsa, _create_signature(rsa)),
    ]


def verify_with_sslib(key, keyid, sig_hex, data):
    """True if securesystemslib's Key API (what python-tuf calls) accepts the signature."""
    try:
        sslib_key = SSlibKey.from_dict(keyid, copy.deepcopy(key))
        sslib_key.verify_signature(Signature(keyid, sig_hex), data)
        return True
    except securesystemslib.exceptions.UnverifiedSignatureError:
        return False
    except securesystemslib.exceptions.VerificationError:
        return False


# --- canonical JSON -------------------------------------------------------------------------

def _nest(value, depth, wrap):
    for _ in range(depth):
        value = wrap(value)
    return value


# Values whose canonical form is easy to get wrong: escaping only '"' and '\\', raw control
# characters and UTF-8, keys sorted by code point (which for UTF-8 is byte order, but not
# UTF-16 order: U+1F680 sorts after U+FFFF), int64 extremes, empty containers, nesting.
CANONICAL_VALUES = {
    "unsorted-nested": {"b": 1, "a": {"z": [3, 2, 1], "y": {"d": None, "c": True}}, "0": False},
    "quotes-backslashes": ['"', "\\", '\\"', '"\\', 'say "hi"\\n', "/", "\\u0041"],
    "control-chars": "\x00\x01\x07\b\t\n\x0b\f\r\x1b\x1f\x7f",
    "unicode": ["é", "ß", "中文", "😀🚀", "\u2028\u2029", "\ufeff", "\ud7ff\ue000\uffff",
                "\U0010ffff", "a\u0301"],
    "unicode-keys": {"z": 1, "é": 2, "e": 3, "🚀": 4, "\uffff": 5, "ａ": 6, "A": 7, "": 8,
                     "\x7f": 9, "\x80": 10},
    "big-ints": [0, 1, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, -(2**63)],
    "empty-containers": {"a": [], "o": {}, "s": "", "n": [[], [{}], {"x": []}]},
    "literals": [None, True, False, [None], {"null": None}],
    "scalar-string": "top-level string with \"quotes\"",
    "scalar-int": -9223372036854775808,
    "deep": _nest(_nest("deep", 9, lambda v: [v]), 25, lambda v: {"k": [v]}),
    "tuf-targets": {
        "_type": "targets",
        "expires": "2030-01-01T00:00:00Z",
        "spec_version": SPEC_VERSION,
        "targets": {
            "fw/app.bin": {
                "custom": {"hardware": ["rev-a", "rev-b"], "note": "naïve \"rc\\1\""},
                "hashes": {"sha256": "ab" * 32, "sha512": "cd" * 64},
                "length": 1048576,
            },
            "fw/ü.bin": {"hashes": {"sha256": "00" * 32}, "length": 0},
        },
        "version": 7,
    },
}

# JSON texts written by hand, for spellings json.dumps never produces.
CANONICAL_TEXTS = {
    "whitespace": ' \t\n{ "b" :\r\n[ 1 , 2 ] ,"a":{ } }\n ',
    "escaped-solidus": '"a\\/b"',
    "uppercase-escapes": '["\\u00E9\\u00e9", "\\uD83D\\uDE80"]',
    "short-escapes": '"\\b\\f\\n\\r\\t\\"\\\\"',
    "minus-zero": "[-0, 0]",
    "escaped-keys": '{"\\u0062": 1, "\\u0061": 2, "\\ud83d\\ude80": 3, "\\uffff": 4}',
}


def canonical_vectors():
    vectors = []
    for name, value in CANONICAL_VALUES.items():
        # Three spellings of each value: ASCII-escaped and compact, raw UTF-8 and pretty,
        # and keys in reverse insertion order (insertion order is already unsorted).
        spellings = {
            "ascii": json.dumps(value),
            "utf8-pretty": json.dumps(value, ensure_ascii=False, indent=2),
        }
        if isinstance(value, dict):
            spellings["reversed"] = json.dumps(dict(reversed(list(value.items()))))
        for spelling, text in spellings.items():
            vectors.append(
                {
                    "name": f"{name}/{spelling}",
                    "input": text,
                    "canonical": formats.encode_canonical(value),
                }
            )
    for name, text in CANONICAL_TEXTS.items():
        vectors.append(
            {
                "name": name,
                "input": text,
                "canonical": formats.encode_canonical(json.loads(text)),
            }
        )
    return vectors


# --- emit -------------------------------------------------------------------------------------


def signed_root(all_keys):
    ed25519 = all_keys[0]
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)
    return {
        "_type": "root",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "consistent_snapshot": True,
        "keys": {k.keyid: k.public for k in all_keys},
        "roles": {
            "root": {"keyids": [k.keyid for k in all_keys], "threshold": ROOT_THRESHOLD},
            "timestamp": {"keyids": [ed25519.keyid], "threshold": 1},
            "snapshot": {"keyids": [ed25519.keyid], "threshold": 1},
            "targets": {"keyids": [ed25519.keyid], "threshold": 1},
        },
        # An extension member, so the signed bytes carry escapes and non-ASCII text.
        "x-interop": {"note": "naïve \"quoted\" back\\slash ✓ 🚀", "z": [], "a": {}},
    }


def emit(path):
    all_keys = generate_keys()
    key_vectors = []
    for key in all_keys:
        messages = {
            "empty": b"",
            "binary": bytes(range(256)) + os.urandom(61),
            "canonical": formats.encode_canonical({"msg": "ü", "n": 1}).encode("utf-8"),
        }
        for label, message in messages.items():
            sig = key.sign(message)
            # Self-check, so that a broken generator is not blamed on the verifier.
            if not verify_with_sslib(key.public, key.keyid, sig, message):
                raise RuntimeError(f"securesystemslib rejects its own {key.name} signature")
            key_vectors.append(
                {
                    "name": f"{key.name}/{label}",
                    # The form securesystemslib 0.26's keys API writes into metadata:
                    # with "keyid_hash_algorithms", which the key ID must ignore.
                    "key": keys.format_keyval_to_metadata(
                        key.key_dict["keytype"], key.key_dict["scheme"], key.key_dict["keyval"]
                    ),
                    "keyid": key.keyid,
                    "legacy_keyid": legacy_keyid(key.key_dict),
                    "message": message.hex(),
                    "signature": sig,
                }
            )

    signed = signed_root(all_keys)
    data = formats.encode_canonical(signed).encode("utf-8")
    envelope = {
        "signatures": [{"keyid": k.keyid, "sig": k.sign(data)} for k in all_keys],
        "signed": signed,
    }
    vectors = {
        "producer": f"securesystemslib {securesystemslib.__version__} "
        f"(python {sys.version.split()[0]}, ed25519 by {all_keys[0].name})",
        "canonical": canonical_vectors(),
        "keys": key_vectors,
        # Spelled as python-tuf's JSONSerializer serves it: indented, keys sorted, ASCII.
        "root": {
            "metadata": json.dumps(envelope, indent=1, separators=(",", ": "), sort_keys=True),
            "signed_canonical": data.decode("utf-8"),
        },
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(vectors, f, indent=1)
    print(
        f"emit: {len(vectors['canonical'])} canonical, {len(key_vectors)} key vectors and a "
        f"root signed by {len(all_keys)} keys -> {path} ({vectors['producer']})"
    )


# --- verify -----------------------------------------------------------------------------------


class Checker:
    def __init__(self):
        self.total = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        self.total += 1
        if not ok:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")

    def check_same(self, ours, theirs, what):
        """`ours` is what Aloft wrote, `theirs` what securesystemslib computes."""
        self.check(ours == theirs, what,
                   "" if ours == theirs else f"aloft {ours!a}, securesystemslib {theirs!a}")


def flip_bit(sig_hex):
    raw = bytearray(binascii.unhexlify(sig_hex))
    raw[len(raw) // 2] ^= 0x01
    return raw.hex()


def count_root_signatures(envelope):
    """Distinct root keys whose signature over encode_canonical(signed) verifies."""
    signed = envelope["signed"]
    data = formats.encode_canonical(signed).encode("utf-8")
    role = signed["roles"]["root"]
    valid = set()
    for s in envelope["signatures"]:
        keyid = s["keyid"]
        if keyid not in role["keyids"] or keyid not in signed["keys"]:
            continue
        if verify_with_sslib(signed["keys"][keyid], keyid, s["sig"], data):
            valid.add(keyid)
    return len(valid), role["threshold"]


def verify(path):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    print(f"verify: vectors from {vectors.get('producer', '?')}")
    c = Checker()
    # Empty vector lists would make every loop below pass vacuously.
    c.check(bool(vectors["canonical"]) and bool(vectors["keys"]), "vectors file is not empty")

    for v in vectors["canonical"]:
        try:
            theirs = formats.encode_canonical(json.loads(v["input"]))
            c.check_same(v["canonical"], theirs, f"canonical {v['name']}")
        except (ValueError, securesystemslib.exceptions.FormatError) as e:
            c.check(False, f"canonical {v['name']}", f"securesystemslib cannot encode: {e}")

    for v in vectors["keys"]:
        name, key = v["name"], v["key"]
        keyid = modern_keyid(key)
        c.check_same(v["keyid"], keyid, f"key {name}: keyid")
        message = binascii.unhexlify(v["message"])
        c.check(verify_with_sslib(key, keyid, v["signature"], message),
                f"key {name}: signature verifies")
        c.check(not verify_with_sslib(key, keyid, flip_bit(v["signature"]), message),
                f"key {name}: signature with a flipped bit is rejected")
        changed = message + b"\x00" if not message else bytes([message[0] ^ 0x01]) + message[1:]
        c.check(not verify_with_sslib(key, keyid, v["signature"], changed),
                f"key {name}: signature over a changed message is rejected")

    # Strict json.loads, as python-tuf's Metadata.from_bytes reads a served file.
    try:
        envelope = json.loads(vectors["root"]["metadata"])
    except ValueError as e:
        c.check(False, "root: python-tuf can parse the file (json.loads)", str(e))
        return finish(c)
    c.check(True, "root: python-tuf can parse the file (json.loads)")
    c.check_same(vectors["root"].get("signed_canonical"),
                 formats.encode_canonical(envelope["signed"]), "root: canonical bytes of 'signed'")
    signed = envelope["signed"]
    for keyid, key in signed["keys"].items():
        c.check(modern_keyid(key) == keyid, f"root: key {keyid[:16]}... listed under its keyid")
    c.check(len(envelope["signatures"]) == ROOT_THRESHOLD, "root: one signature per root key",
            f"{len(envelope['signatures'])} signatures")
    count, threshold = count_root_signatures(envelope)
    c.check(threshold == ROOT_THRESHOLD and count >= threshold,
            f"root: {count} valid signatures, threshold {threshold}")
    for i, s in enumerate(envelope["signatures"]):
        fewer = copy.deepcopy(envelope)
        del fewer["signatures"][i]
        n, _ = count_root_signatures(fewer)
        c.check(n < threshold,
                f"root: without signature {i} ({s['keyid'][:16]}...) it is below threshold",
                f"{n} valid")

    return finish(c)


def finish(c):
    print(f"verify: {c.total - c.failed}/{c.total} checks passed")
    return 1 if c.failed else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("emit", "verify"):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "emit":
        emit(argv[2])
        return 0
    return verify(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
