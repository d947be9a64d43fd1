#!/usr/bin/python3
"""Named external baseline for aloft-bench-core's FullRefresh: the verification work of a
Python TUF client, timed on the same repository.

Given a directory written by `aloft-bench-core --write-repo DIR`, repeats what a fresh client
does there: trusted root v1 (DIR/root.json), the root chain, timestamp, snapshot, top-level
targets, then the search for a target that only the delegated role lists. For each file it
does what python-tuf does at least: json.loads, securesystemslib's encode_canonical of
"signed", a threshold of signature checks, length and hashes where the delegator lists them,
_type, version and expiry. It builds no python-tuf objects, so it is a floor for python-tuf.

Two signature back ends:
  securesystemslib  SSlibKey.verify_signature, as python-tuf calls it. securesystemslib 0.26
                    verifies ed25519 with PyNaCl (libsodium) when python3-nacl is installed
                    and in pure Python otherwise (some 50 times slower); the name says which.
  cryptography      pyca/cryptography called directly (OpenSSL, like aloft).

Run it with Debian's /usr/bin/python3 (python3-securesystemslib, python3-cryptography).
"""

import argparse
import copy
import fnmatch
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone

import cryptography
import securesystemslib
import securesystemslib.ed25519_keys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import Signature, SSlibKey

MAX_DELEGATIONS = 32


class VerificationError(Exception):
    pass


# --- signature back ends ---------------------------------------------------------------------


class SslibVerifier:
    """securesystemslib's SSlibKey, as python-tuf's Metadata.verify_delegate uses it."""

    name = f"securesystemslib {securesystemslib.__version__} " + (
        "(ed25519 via PyNaCl)" if securesystemslib.ed25519_keys.NACL
        else "(ed25519 in pure Python: no PyNaCl)")

    @staticmethod
    def load_key(keyid, key_dict):
        return SSlibKey.from_dict(keyid, copy.deepcopy(key_dict))  # from_dict consumes the dict

    @staticmethod
    def verify(key, signature, data):
        key.verify_signature(Signature.from_dict(dict(signature)), data)  # raises on failure


class CryptographyVerifier:
    """pyca/cryptography directly, with TUF's schemes."""

    name = f"pyca/cryptography {cryptography.__version__}"

    @staticmethod
    def load_key(_keyid, key_dict):
        keytype, scheme = key_dict["keytype"], key_dict["scheme"]
        public = key_dict["keyval"]["public"]
        if keytype == "ed25519" and scheme == "ed25519":
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            return lambda sig, data: key.verify(sig, data)
        pem = serialization.load_pem_public_key(public.encode())
        if keytype in ("ecdsa", "ecdsa-sha2-nistp256") and scheme == "ecdsa-sha2-nistp256":
            return lambda sig, data: pem.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        if keytype == "rsa" and scheme == "rsassa-pss-sha256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            return lambda sig, data: pem.verify(sig, data, pss, hashes.SHA256())
        raise VerificationError(f"unsupported key {keytype}/{scheme}")

    @staticmethod
    def verify(key, signature, data):
        try:
            key(bytes.fromhex(signature["sig"]), data)
        except InvalidSignature as e:
            raise VerificationError("bad signature") from e


VERIFIERS = {"securesystemslib": SslibVerifier, "cryptography": CryptographyVerifier}


# --- the client ------------------------------------------------------------------------------


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def path_matches(target_path, pattern):
    """python-tuf's shell-style match: same number of '/'-separated segments, fnmatch each."""
    target_parts, pattern_parts = target_path.split("/"), pattern.split("/")
    return len(target_parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(t, p) for t, p in zip(target_parts, pattern_parts)
    )


class Client:
    def __init__(self, files, reference_time, verifier):
        self.files = files
        self.now = reference_time
        self.verifier = verifier

    def load_keys(self, keys):
        return {keyid: self.verifier.load_key(keyid, key) for keyid, key in keys.items()}

    def verify_threshold(self, name, metadata, canonical, keys, role):
        valid = set()
        for signature in metadata["signatures"]:
            keyid = signature["keyid"]
            if keyid not in role["keyids"] or keyid in valid or keyid not in keys:
                continue
            try:
                self.verifier.verify(keys[keyid], signature, canonical)
                valid.add(keyid)
            except Exception:  # noqa: BLE001 - any failure is an invalid signature
                pass
        if len(valid) < role["threshold"]:
            raise VerificationError(f"{name}: {len(valid)} of {role['threshold']} signatures")

    def parse(self, name, data, expected_type, meta=None):
        """Length and hashes (when listed), JSON, _type and the canonical bytes."""
        if meta is not None:
            if "length" in meta and len(data) != meta["length"]:
                raise VerificationError(f"{name}: length mismatch")
            for algorithm, digest in meta.get("hashes", {}).items():
                if hashlib.new(algorithm, data).hexdigest() != digest:
                    raise VerificationError(f"{name}: {algorithm} mismatch")
        metadata = json.loads(data)
        signed = metadata["signed"]
        if signed["_type"] != expected_type:
            raise VerificationError(f"{name}: _type is {signed['_type']}")
        return metadata, encode_canonical(signed).encode("utf-8")

    def check_expiry(self, name, signed):
        if parse_time(signed["expires"]) <= self.now:
            raise VerificationError(f"{name} expired")

    def refresh(self):
        root, canonical = self.parse("root", self.files["root.json"], "root")
        keys = self.load_keys(root["signed"]["keys"])
        self.verify_threshold("root", root, canonical, keys, root["signed"]["roles"]["root"])
        # The root chain: N+1.root.json signed by the old and the new root keys.
        while True:
            name = f"metadata/{root['signed']['version'] + 1}.root.json"
            if name not in self.files:
                break
            new_root, canonical = self.parse(name, self.files[name], "root")
            self.verify_threshold(name, new_root, canonical, keys,
                                  root["signed"]["roles"]["root"])
            keys = self.load_keys(new_root["signed"]["keys"])
            self.verify_threshold(name, new_root, canonical, keys,
                                  new_root["signed"]["roles"]["root"])
            root = new_root
        self.check_expiry("root", root["signed"])
        self.root, self.root_keys = root["signed"], keys

        timestamp, canonical = self.parse(
            "timestamp", self.files["metadata/timestamp.json"], "timestamp")
        self.verify_threshold("timestamp", timestamp, canonical, keys,
                              self.root["roles"]["timestamp"])
        self.check_expiry("timestamp", timestamp["signed"])

        snapshot_meta = timestamp["signed"]["meta"]["snapshot.json"]
        snapshot, canonical = self.parse(
            "snapshot", self.files[self.metadata_path("snapshot", snapshot_meta)], "snapshot",
            snapshot_meta)
        self.verify_threshold("snapshot", snapshot, canonical, keys,
                              self.root["roles"]["snapshot"])
        if snapshot["signed"]["version"] != snapshot_meta["version"]:
            raise VerificationError("snapshot version does not match the timestamp")
        self.check_expiry("snapshot", snapshot["signed"])
        self.snapshot = snapshot["signed"]

        self.targets = {}
        self.load_targets("targets", keys, self.root["roles"]["targets"])

    def metadata_path(self, role, meta):
        if self.root["consistent_snapshot"]:
            return f"metadata/{meta['version']}.{role}.json"
        return f"metadata/{role}.json"

    def load_targets(self, role, keys, role_keys):
        if role in self.targets:
            return self.targets[role]
        meta = self.snapshot["meta"][f"{role}.json"]
        targets, canonical = self.parse(role, self.files[self.metadata_path(role, meta)],
                                        "targets", meta)
        self.verify_threshold(role, targets, canonical, keys, role_keys)
        if targets["signed"]["version"] != meta["version"]:
            raise VerificationError(f"{role} version does not match the snapshot")
        self.check_expiry(role, targets["signed"])
        self.targets[role] = targets["signed"]
        return targets["signed"]

    def find_target(self, target_path):
        """Pre-order depth-first search of the delegations, as python-tuf does it."""
        to_visit = [("targets", self.root_keys, self.root["roles"]["targets"])]
        visited = set()
        while to_visit and len(visited) < MAX_DELEGATIONS:
            role, keys, role_keys = to_visit.pop()
            if role in visited:
                continue
            visited.add(role)
            targets = self.load_targets(role, keys, role_keys)
            if target_path in targets["targets"]:
                return targets["targets"][target_path]
            delegations = targets.get("delegations")
            if not delegations:
                continue
            delegated_keys = self.load_keys(delegations["keys"])
            children = []
            for child in delegations["roles"]:
                if any(path_matches(target_path, p) for p in child.get("paths", [])):
                    children.append((child["name"], delegated_keys, child))
                    if child["terminating"]:
                        to_visit.clear()
                        break
            to_visit.extend(reversed(children))
        raise VerificationError(f"no role lists {target_path}")


# --- driver ----------------------------------------------------------------------------------


def read_repository(directory):
    """Every metadata file in memory, like aloft's MemoryFetcher: no disk I/O is timed."""
    files = {"root.json": open(os.path.join(directory, "root.json"), "rb").read()}
    metadata_dir = os.path.join(directory, "metadata")
    for name in os.listdir(metadata_dir):
        with open(os.path.join(metadata_dir, name), "rb") as f:
            files[f"metadata/{name}"] = f.read()
    return files


def run_once(files, reference_time, verifier, target):
    client = Client(files, reference_time, verifier)
    client.refresh()
    return client.find_target(target)


def measure(files, reference_time, verifier, target, runs):
    run_once(files, reference_time, verifier, target)  # warm-up, and a check that it passes
    start = time.process_time()
    for _ in range(runs):
        run_once(files, reference_time, verifier, target)
    return (time.process_time() - start) * 1e3 / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", help="directory written by aloft-bench-core --write-repo")
    parser.add_argument("--runs", type=int, default=50, help="timed refreshes (default 50)")
    parser.add_argument("--verifier", choices=[*VERIFIERS, "both"], default="both")
    parser.add_argument("--json", metavar="FILE", help="also write {verifier: ms} to FILE")
    args = parser.parse_args()

    with open(os.path.join(args.repo, "bench.json"), encoding="utf-8") as f:
        info = json.load(f)
    files = read_repository(args.repo)
    reference_time = parse_time(info["reference_time"])
    names = list(VERIFIERS) if args.verifier == "both" else [args.verifier]

    print(f"tuf_refresh_baseline: {args.repo} ({info['key_type']}), "
          f"{info['metadata_files']} metadata files, target {info['target']}")
    results = {}
    for name in names:
        verifier = VERIFIERS[name]
        ms = measure(files, reference_time, verifier, info["target"], args.runs)
        results[name] = ms
        label = verifier.name if info["key_type"] == "ed25519" else verifier.name.split(" (")[0]
        print(f"  {label}: {ms:.2f} ms CPU per refresh ({args.runs} runs)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"key_type": info["key_type"], "cpu_ms_per_refresh": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
