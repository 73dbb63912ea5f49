#!/usr/bin/env python3
"""Builds testdata/pcaps/manifest.json from the intents capture.sh declares.

  manifest.py add ENTRIES.jsonl NAME key=value ...   one scenario's intent
  manifest.py build MANIFEST.json ENTRIES.jsonl TOOLS.json
      merges the new entries into MANIFEST.json (replacing same-named ones,
      keeping the others) and fails if a listed pcap is missing.

List-valued keys take comma-separated values (decode_as: ';'); numbers and true/false are
converted. The manifest is intent: scripts/captures/manifest_test.go checks
it against tshark's dissection of each pcap.
"""
import json
import os
import sys

LISTS = {"findings", "secrets", "hidden_secrets", "alpn_offered", "decode_as", "versions_offered", "decoded_secrets"}
INTS = {"port", "connections", "tls_connections", "chain_length", "dh_bits"}
BOOLS = {"resumed", "starttls", "hrr", "client_cert", "early_data", "client_cert_requested"}


def add(path, name, pairs):
    e = {"pcap": name + ".pcap"}
    for p in pairs:
        k, _, v = p.partition("=")
        if k in LISTS:
            sep = ";" if k == "decode_as" else ","  # tshark -d values hold commas
            e[k] = [x for x in v.split(sep) if x] if v else []
        elif k in INTS:
            e[k] = int(v)
        elif k in BOOLS:
            e[k] = v == "true"
        else:
            e[k] = v
    e.setdefault("address", "127.0.0.1")
    e.setdefault("findings", [])
    e.setdefault("secrets", [])
    with open(path, "a") as f:
        f.write(json.dumps(e) + "\n")


def build(manifest, entries, tools):
    old = {}
    if os.path.exists(manifest):
        with open(manifest) as f:
            old = {c["pcap"]: c for c in json.load(f).get("captures", [])}
    if os.path.exists(entries):
        with open(entries) as f:
            for line in f:
                e = json.loads(line)
                old[e["pcap"]] = e
    with open(tools) as f:
        tool_versions = json.load(f)
    out = {
        "about": "Intent of each capture in this directory (see README). "
                 "scripts/captures/manifest_test.go checks it against tshark.",
        "ca_file": "ca.pem",
        "tools": tool_versions,
        "captures": [old[k] for k in sorted(old)],
    }
    missing = [k for k in old if not os.path.exists(os.path.join(os.path.dirname(manifest), k))]
    if missing:
        sys.exit("manifest lists missing captures: " + ", ".join(missing))
    with open(manifest, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if sys.argv[1] == "add":
        add(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
