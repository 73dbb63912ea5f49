package fingerprint

// knownClients maps a JA4 to the client that produced it in a public
// capture where the client is named. It is deliberately small: each row is
// an observed value with its source, not a database. FoxIO's
// ja4plus-mapping.csv is not in the corpus and lives in a repository under
// the FoxIO License 1.1, so no row is taken from it.
//
// Paths are relative to the corpus (testutil.Corpus); "INDEX #n" is the row
// of its INDEX.md that names the client.
var knownClients = map[string]string{
	// Firefox: ja4/pcap/tls12.pcap (INDEX #1: "Firefox, TLS1.3-capable CH"),
	// expected JA4 in ja4/python/test/testdata/tls12.pcap.json.
	"t13d1715h2_5b57614c22b0_3d5424432f57": "Firefox",

	// Chrome over TCP: ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng
	// (INDEX #8: "Chrome -> cloudflare-quic.com"), expected JA4 in
	// ja4/python/test/testdata/chrome-cloudflare-quic-with-secrets.pcapng.json
	// and in suricata-verify/tests/ja4-tls-quic/test.yaml (tls.ja4). Chrome
	// shuffles its extension order; JA4 sorts it, so the value is stable.
	"t13d1516h2_8daaf6152771_e5627efa2ab1": "Chrome",

	// Chrome over QUIC: the same capture's QUIC connection, expected JA4 in
	// the rust snapshot ja4__insta@chrome-cloudflare-quic-with-secrets.pcapng.snap
	// and suricata-verify/tests/ja4-tls-quic/test.yaml (quic.ja4).
	"q13d0310h3_55b375c5d22e_cd85d2d88918": "Chrome (QUIC)",

	// Chrome with Encrypted Client Hello: nDPI/tests/cfgs/default/pcap/tls_ech.pcapng
	// (INDEX #47: "Chrome TLS1.3 with ECH (0xfe0d) to Cloudflare"), expected
	// JA4 in nDPI/tests/cfgs/default/result/tls_ech.pcapng.out.
	"t13d1516h2_8daaf6152771_02713d6af862": "Chrome (ECH)",
}

// KnownClient returns the name of the client a JA4 belongs to, from a small
// table of values observed in named public captures, or "" when the value
// is not in it. A match is a hint, not an identification: any client can
// send the same ClientHello.
func KnownClient(ja4 string) string {
	return knownClients[ja4]
}
