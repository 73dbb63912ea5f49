package tls

import "fmt"

//go:generate go run ./internal/gen internal/gen/cipher-suites.txt suites_table.go

// LookupCipherSuite returns the IANA registry entry for a cipher suite ID.
// GREASE values (RFC 8701) and unassigned IDs are not found.
func LookupCipherSuite(id uint16) (CipherSuite, bool) {
	if i, ok := suiteIndex[id]; ok {
		return cipherSuites[i], true
	}
	return CipherSuite{}, false
}

// suiteIndex finds a suite in the table by ID: a report names every suite
// a client offered, and a map lookup costs a fraction of a binary search.
var suiteIndex = func() map[uint16]int {
	m := make(map[uint16]int, len(cipherSuites))
	for i, s := range cipherSuites {
		m[s.ID] = i
	}
	return m
}()

// CipherSuites returns every suite of the registry, ordered by ID.
func CipherSuites() []CipherSuite {
	out := make([]CipherSuite, len(cipherSuites))
	copy(out, cipherSuites[:])
	return out
}

// CipherSuiteName is the IANA name of a suite, or "0x1234" when the ID is
// not assigned (GREASE values included).
func CipherSuiteName(id uint16) string {
	if s, ok := LookupCipherSuite(id); ok {
		return s.Name
	}
	return hex16(id)
}

func hex16(v uint16) string { return fmt.Sprintf("0x%04x", v) }

// IsGREASE reports whether v is one of the reserved GREASE values of RFC
// 8701, 2: 0x0a0a, 0x1a1a, ... 0xfafa, used in cipher suites, extensions,
// groups, signature algorithms and versions.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// Protocol versions (RFC 8446, 4.2.1; RFC 6101; RFC 6347; RFC 9147).
const (
	VersionSSL20  uint16 = 0x0002
	VersionSSL30  uint16 = 0x0300
	VersionTLS10  uint16 = 0x0301
	VersionTLS11  uint16 = 0x0302
	VersionTLS12  uint16 = 0x0303
	VersionTLS13  uint16 = 0x0304
	VersionDTLS10 uint16 = 0xfeff
	VersionDTLS12 uint16 = 0xfefd
	VersionDTLS13 uint16 = 0xfefc
)

var versionNames = map[uint16]string{
	VersionSSL20:  "SSL 2.0",
	VersionSSL30:  "SSL 3.0",
	VersionTLS10:  "TLS 1.0",
	VersionTLS11:  "TLS 1.1",
	VersionTLS12:  "TLS 1.2",
	VersionTLS13:  "TLS 1.3",
	VersionDTLS10: "DTLS 1.0",
	VersionDTLS12: "DTLS 1.2",
	VersionDTLS13: "DTLS 1.3",
	0x0100:        "DTLS 1.0 (OpenSSL pre 0.9.8f)",
	// Vendors' TLS 1.3 variants of 2017-2018: Facebook's drafts 23 and
	// 26 (Fizz), Google's middlebox experiments on draft 18 (Chrome 62-64).
	0xfb17: "TLS 1.3 (Facebook draft 23)",
	0xfb1a: "TLS 1.3 (Facebook draft 26)",
	0x7e01: "TLS 1.3 (Google experiment 1)",
	0x7e02: "TLS 1.3 (Google experiment 2)",
	0x7e03: "TLS 1.3 (Google experiment 3)",
}

// VersionName names a protocol version: "SSL 2.0", "SSL 3.0", "TLS 1.0" ..
// "TLS 1.3", "TLS 1.3 (draft 23)" for the 0x7fXX drafts, "DTLS 1.2", or
// "0x...." when unknown.
func VersionName(v uint16) string {
	if n, ok := versionNames[v]; ok {
		return n
	}
	if v>>8 == 0x7f { // draft-ietf-tls-tls13-NN used 0x7f00|NN
		return fmt.Sprintf("TLS 1.3 (draft %d)", v&0xff)
	}
	return hex16(v)
}

// Version13 reports whether v means TLS 1.3, final or a draft.
func Version13(v uint16) bool {
	return v == VersionTLS13 || v>>8 == 0x7f || v == 0xfb17 || v == 0xfb1a || v >= 0x7e01 && v <= 0x7e03
}

// draftHello reports whether a ServerHello of version v has the layout of
// draft-ietf-tls-tls13-21 and before (4.1.3): version, random,
// cipher_suite and extensions, without legacy_session_id_echo and
// legacy_compression_method, which draft 22 added for middleboxes.
func draftHello(v uint16) bool { return v>>8 == 0x7f && v&0xff < 22 }

// Record content types (RFC 8446, 5.1; RFC 6520; RFC 9146; RFC 9147).
const (
	ContentChangeCipherSpec uint8 = 20
	ContentAlert            uint8 = 21
	ContentHandshake        uint8 = 22
	ContentApplicationData  uint8 = 23
	ContentHeartbeat        uint8 = 24
)

var contentTypeNames = map[uint8]string{
	20: "change_cipher_spec",
	21: "alert",
	22: "handshake",
	23: "application_data",
	24: "heartbeat",
	25: "tls12_cid",
	26: "ack",
	27: "return_routability_check",
}

// ContentTypeName is the IANA name of a record content type.
func ContentTypeName(t uint8) string {
	if n, ok := contentTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", t)
}

// Handshake message types (IANA TLS HandshakeType registry).
const (
	TypeHelloRequest        uint8 = 0
	TypeClientHello         uint8 = 1
	TypeServerHello         uint8 = 2
	TypeHelloVerifyRequest  uint8 = 3
	TypeNewSessionTicket    uint8 = 4
	TypeEndOfEarlyData      uint8 = 5
	TypeHelloRetryRequest   uint8 = 6
	TypeEncryptedExtensions uint8 = 8
	TypeCertificate         uint8 = 11
	TypeServerKeyExchange   uint8 = 12
	TypeCertificateRequest  uint8 = 13
	TypeServerHelloDone     uint8 = 14
	TypeCertificateVerify   uint8 = 15
	TypeClientKeyExchange   uint8 = 16
	TypeFinished            uint8 = 20
	TypeCertificateURL      uint8 = 21
	TypeCertificateStatus   uint8 = 22
	TypeSupplementalData    uint8 = 23
	TypeKeyUpdate           uint8 = 24
	TypeCompressedCert      uint8 = 25
	TypeMessageHash         uint8 = 254
)

var handshakeTypeNames = map[uint8]string{
	0:   "hello_request",
	1:   "client_hello",
	2:   "server_hello",
	3:   "hello_verify_request",
	4:   "new_session_ticket",
	5:   "end_of_early_data",
	6:   "hello_retry_request",
	8:   "encrypted_extensions",
	9:   "request_connection_id",
	10:  "new_connection_id",
	11:  "certificate",
	12:  "server_key_exchange",
	13:  "certificate_request",
	14:  "server_hello_done",
	15:  "certificate_verify",
	16:  "client_key_exchange",
	17:  "client_certificate_request",
	20:  "finished",
	21:  "certificate_url",
	22:  "certificate_status",
	23:  "supplemental_data",
	24:  "key_update",
	25:  "compressed_certificate",
	26:  "ekt_key",
	254: "message_hash",
}

// HandshakeTypeName is the IANA name of a handshake message type.
func HandshakeTypeName(t uint8) string {
	if n, ok := handshakeTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", t)
}

// Alert levels (RFC 5246, 7.2).
const (
	AlertLevelWarning uint8 = 1
	AlertLevelFatal   uint8 = 2
)

// Alert descriptions (IANA TLS Alerts registry; RFC 8446, 6). Values the
// registry marks _RESERVED are kept under their historical names.
var alertNames = map[uint8]string{
	0:   "close_notify",
	1:   "end_of_early_data", // TLS 1.3 drafts only
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed",
	22:  "record_overflow",
	30:  "decompression_failure",
	40:  "handshake_failure",
	41:  "no_certificate",
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	52:  "too_many_cids_requested",
	60:  "export_restriction",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback",
	90:  "user_canceled",
	100: "no_renegotiation",
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable",
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value",
	115: "unknown_psk_identity",
	116: "certificate_required",
	117: "general_error",
	120: "no_application_protocol",
	121: "ech_required",
}

// AlertName is the IANA snake_case name of an alert description, e.g.
// "handshake_failure", or "0x.." when unassigned.
func AlertName(desc uint8) string {
	if n, ok := alertNames[desc]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", desc)
}

// Extension types (IANA TLS ExtensionType Values; a few widely deployed
// unregistered code points are kept because fingerprints show them).
const (
	extServerName           uint16 = 0
	extStatusRequest        uint16 = 5
	extSupportedGroups      uint16 = 10
	extECPointFormats       uint16 = 11
	extSignatureAlgorithms  uint16 = 13
	extHeartbeat            uint16 = 15
	extALPN                 uint16 = 16
	extExtendedMasterSecret uint16 = 23
	extSessionTicket        uint16 = 35
	extPreSharedKey         uint16 = 41
	extEarlyData            uint16 = 42
	extSupportedVersions    uint16 = 43
	extPSKModes             uint16 = 45
	extKeyShare             uint16 = 51
	extKeyShareDraft        uint16 = 40 // key_share before draft-ietf-tls-tls13-23
	extEncryptedClientHello uint16 = 0xfe0d
	extRenegotiationInfo    uint16 = 0xff01
)

var extensionNames = map[uint16]string{
	0:      "server_name",
	1:      "max_fragment_length",
	2:      "client_certificate_url",
	3:      "trusted_ca_keys",
	4:      "truncated_hmac",
	5:      "status_request",
	6:      "user_mapping",
	7:      "client_authz",
	8:      "server_authz",
	9:      "cert_type",
	10:     "supported_groups",
	11:     "ec_point_formats",
	12:     "srp",
	13:     "signature_algorithms",
	14:     "use_srtp",
	15:     "heartbeat",
	16:     "application_layer_protocol_negotiation",
	17:     "status_request_v2",
	18:     "signed_certificate_timestamp",
	19:     "client_certificate_type",
	20:     "server_certificate_type",
	21:     "padding",
	22:     "encrypt_then_mac",
	23:     "extended_master_secret",
	24:     "token_binding",
	25:     "cached_info",
	26:     "tls_lts",
	27:     "compress_certificate",
	28:     "record_size_limit",
	29:     "pwd_protect",
	30:     "pwd_clear",
	31:     "password_salt",
	32:     "ticket_pinning",
	33:     "tls_cert_with_extern_psk",
	34:     "delegated_credential",
	35:     "session_ticket",
	36:     "TLMSP",
	37:     "TLMSP_proxying",
	38:     "TLMSP_delegate",
	39:     "supported_ekt_ciphers",
	41:     "pre_shared_key",
	42:     "early_data",
	43:     "supported_versions",
	44:     "cookie",
	45:     "psk_key_exchange_modes",
	47:     "certificate_authorities",
	48:     "oid_filters",
	49:     "post_handshake_auth",
	50:     "signature_algorithms_cert",
	51:     "key_share",
	52:     "transparency_info",
	53:     "connection_id_deprecated",
	54:     "connection_id",
	55:     "external_id_hash",
	56:     "external_session_id",
	57:     "quic_transport_parameters",
	58:     "ticket_request",
	59:     "dnssec_chain",
	60:     "sequence_number_encryption_algorithms",
	61:     "rrc",
	62:     "tls_flags",
	13172:  "next_protocol_negotiation", // draft-agl-tls-nextprotoneg
	17513:  "application_settings",      // ALPS, draft-vvv-tls-alps
	17613:  "application_settings",      // ALPS, new code point (Chrome 131+)
	30031:  "channel_id_old",
	30032:  "channel_id",
	0xfe0d: "encrypted_client_hello",
	0xff01: "renegotiation_info",
	0xffa5: "quic_transport_parameters_draft",
	0xffce: "encrypted_server_name", // draft-ietf-tls-esni before -07
}

// ExtensionName names an extension type ("GREASE" for RFC 8701 values,
// "0x...." when unknown).
func ExtensionName(t uint16) string {
	if n, ok := extensionNames[t]; ok {
		return n
	}
	if IsGREASE(t) {
		return "GREASE"
	}
	return hex16(t)
}

// Supported groups (IANA TLS Supported Groups registry; RFC 8422, RFC 7919,
// draft-ietf-tls-ecdhe-mlkem, draft-tls-westerbaan-xyber768d00).
var groupNames = map[uint16]string{
	1:      "sect163k1",
	2:      "sect163r1",
	3:      "sect163r2",
	4:      "sect193r1",
	5:      "sect193r2",
	6:      "sect233k1",
	7:      "sect233r1",
	8:      "sect239k1",
	9:      "sect283k1",
	10:     "sect283r1",
	11:     "sect409k1",
	12:     "sect409r1",
	13:     "sect571k1",
	14:     "sect571r1",
	15:     "secp160k1",
	16:     "secp160r1",
	17:     "secp160r2",
	18:     "secp192k1",
	19:     "secp192r1",
	20:     "secp224k1",
	21:     "secp224r1",
	22:     "secp256k1",
	23:     "secp256r1",
	24:     "secp384r1",
	25:     "secp521r1",
	26:     "brainpoolP256r1",
	27:     "brainpoolP384r1",
	28:     "brainpoolP512r1",
	29:     "x25519",
	30:     "x448",
	31:     "brainpoolP256r1tls13",
	32:     "brainpoolP384r1tls13",
	33:     "brainpoolP512r1tls13",
	34:     "GC256A",
	35:     "GC256B",
	36:     "GC256C",
	37:     "GC256D",
	38:     "GC512A",
	39:     "GC512B",
	40:     "GC512C",
	41:     "curveSM2",
	256:    "ffdhe2048",
	257:    "ffdhe3072",
	258:    "ffdhe4096",
	259:    "ffdhe6144",
	260:    "ffdhe8192",
	512:    "MLKEM512",
	513:    "MLKEM768",
	514:    "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00",
	0x639a: "SecP256r1Kyber768Draft00",
	0xff01: "arbitrary_explicit_prime_curves",
	0xff02: "arbitrary_explicit_char2_curves",
}

// GroupName names a supported group / named curve ("GREASE", or "0x....").
func GroupName(g uint16) string {
	if n, ok := groupNames[g]; ok {
		return n
	}
	if IsGREASE(g) {
		return "GREASE"
	}
	return hex16(g)
}

// Signature schemes (IANA TLS SignatureScheme registry, RFC 8446 4.2.3),
// plus the TLS 1.2 hash/signature pairs of RFC 5246, 7.4.1.4.1 that have
// no scheme name.
var signatureSchemeNames = map[uint16]string{
	0x0101: "rsa_md5",
	0x0102: "dsa_md5",
	0x0103: "ecdsa_md5",
	0x0201: "rsa_pkcs1_sha1",
	0x0202: "dsa_sha1",
	0x0203: "ecdsa_sha1",
	0x0301: "rsa_sha224",
	0x0302: "dsa_sha224",
	0x0303: "ecdsa_sha224",
	0x0401: "rsa_pkcs1_sha256",
	0x0402: "dsa_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0420: "rsa_pkcs1_sha256_legacy",
	0x0501: "rsa_pkcs1_sha384",
	0x0502: "dsa_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0520: "rsa_pkcs1_sha384_legacy",
	0x0601: "rsa_pkcs1_sha512",
	0x0602: "dsa_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0620: "rsa_pkcs1_sha512_legacy",
	0x0704: "eccsi_sha256",
	0x0705: "iso_ibs1",
	0x0706: "iso_ibs2",
	0x0707: "iso_chinese_ibs",
	0x0708: "sm2sig_sm3",
	0x0709: "gostr34102012_256a",
	0x070a: "gostr34102012_256b",
	0x070b: "gostr34102012_256c",
	0x070c: "gostr34102012_256d",
	0x070d: "gostr34102012_512a",
	0x070e: "gostr34102012_512b",
	0x070f: "gostr34102012_512c",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080a: "rsa_pss_pss_sha384",
	0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// SignatureSchemeName names a signature scheme ("GREASE", or "0x....").
func SignatureSchemeName(s uint16) string {
	if n, ok := signatureSchemeNames[s]; ok {
		return n
	}
	if IsGREASE(s) {
		return "GREASE"
	}
	return hex16(s)
}

// SSLv2 cipher kinds (draft-hickman-netscape-ssl-00, Appendix C), 3 bytes
// each; 0x080080 is Netscape's RC4_64.
var sslv2CipherKinds = map[uint32]string{
	0x010080: "SSL_CK_RC4_128_WITH_MD5",
	0x020080: "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
	0x030080: "SSL_CK_RC2_128_CBC_WITH_MD5",
	0x040080: "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
	0x050080: "SSL_CK_IDEA_128_CBC_WITH_MD5",
	0x060040: "SSL_CK_DES_64_CBC_WITH_MD5",
	0x0700c0: "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
	0x080080: "SSL_CK_RC4_64_WITH_MD5",
}

// SSLv2CipherKindName names a 3-byte SSLv2 cipher kind; a kind whose first
// byte is zero is a TLS cipher suite (RFC 5246, E.2) and takes its name.
func SSLv2CipherKindName(k uint32) string {
	if n, ok := sslv2CipherKinds[k]; ok {
		return n
	}
	if k>>16 == 0 {
		return CipherSuiteName(uint16(k))
	}
	return fmt.Sprintf("0x%06x", k)
}
