#!/usr/bin/env python3
"""Writes testdata/pcaps/README: README.in, then one paragraph per capture
from manifest.json, then the tools that recorded them."""
import json
import sys

tmpl, manifest, out = sys.argv[1:4]
m = json.load(open(manifest))
lines = [open(tmpl).read()]
for c in m["captures"]:
    lines.append("%s\n    %s\n" % (c["pcap"], c["scenario"]))
    facts = []
    for k in ("client", "server", "address", "version", "cipher_suite", "sni", "alpn", "cert", "protocol"):
        if c.get(k) not in (None, ""):
            facts.append("%s: %s" % (k, c[k]))
    if c.get("handshake") == "failed":
        facts.append("handshake fails with %s" % c.get("alert"))
    lines.append("    " + "; ".join(facts) + "\n")
    if c.get("findings"):
        lines.append("    findings: " + ", ".join(c["findings"]) + "\n")
    if c.get("secrets"):
        where = "inside the %s body" % c["encoding"] if c.get("encoding") else "in the clear"
        lines.append("    planted %s: %s\n" % (where, ", ".join(c["secrets"])))
    if c.get("decoded_secrets"):
        lines.append("    ...which decode to: " + ", ".join(c["decoded_secrets"]) + "\n")
    if c.get("hidden_secrets"):
        lines.append("    planted after TLS (must not be found): " + ", ".join(c["hidden_secrets"]) + "\n")
lines.append("\nTools\n-----\n")
for k, v in m["tools"].items():
    lines.append("- %s: %s\n" % (k, v))
open(out, "w").write("".join(lines))
