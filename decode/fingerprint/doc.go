// Package fingerprint computes TLS handshake fingerprints from parsed hello
// messages: JA3 and JA3S (salesforce/ja3, BSD-3-Clause) and JA4 with its raw
// form ja4_r (FoxIO JA4, BSD-3-Clause). It reads tls.ClientHello and
// tls.ServerHello values only; it never parses bytes, never allocates more
// than the strings it returns, and never fails: a message it cannot
// fingerprint gives empty strings.
//
// # Reference values
//
// Every fingerprint is tested against values computed by other tools on
// public captures: tshark's ja3/ja3s columns for every TCP hello of the
// corpus oracle files, suricata-verify's expected EVE values, and FoxIO's
// own expected JA4 output (python/test/testdata and the rust snapshots) for
// every TCP ClientHello of the FoxIO captures.
//
// JA3 of an SSLv2-compatible ClientHello is empty, as in tshark; JA3's
// version field is the ClientHello's legacy_version.
//
// # The JA4 ALPN characters
//
// JA4's part a ends with the first and last character of the first ALPN
// protocol name. For names whose ends are not alphanumeric the
// specification text (technical_details/JA4.md, "ALPN Extension Value")
// asks for the ends of the name's hex encoding, but FoxIO's python and rust
// implementations, which produced the expected values in FoxIO's own test
// data, do something else: both read tshark's rendering of the name and
// print "99" when its bytes are not ASCII (0xBA 0xAD gives "99" where the
// text gives "bd"), and both print an ASCII punctuation byte as it is.
// This package follows the implementations wherever they agree with each
// other and the specification text where they do not; alpnChars in ja4.go
// lists the cases and quotes the code of ja4.py (to_ja4) and tls.rs
// (first_last) they come from.
//
// # Other choices, each from JA4.md
//
// GREASE values are dropped from the signature algorithms too ("ignore
// GREASE values anywhere"). Without signature algorithms part c hashes
// the extension list alone, with no trailing '_' (FoxIO-LLC/ja4#146);
// Suricata 8 hashes "extensions_" there, and the suricata-verify test
// that shows it (bug-5713-02-ja4) is checked for exactly that difference.
// An empty list hashes to "000000000000". The SNI letter is 'd' when the
// server_name extension is present.
//
// # What is left out
//
// JA4S (server), JA4X (certificate), JA4H (HTTP), JA4L (latency), JA4SSH
// and the other JA4+ methods are licensed under the FoxIO License 1.1,
// which is not an open-source licence (it restricts commercial use), so
// they are not implemented here. Only JA4, which FoxIO publishes under
// BSD-3-Clause, is. JA4_o and JA4_ro (lists in original order) are not
// computed either: the facts carry JA4 and JA4_r only.
//
// KnownClient labels a JA4 from a small table of values observed in public
// captures that name their client; each row cites its source.
package fingerprint
