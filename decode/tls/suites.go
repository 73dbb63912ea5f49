package tls

// CipherSuite describes one IANA TLS cipher suite by its parts, so rules can
// judge a suite without matching its name by substring. The table behind
// LookupCipherSuite is filled by the tls package's registry data.
type CipherSuite struct {
	ID          uint16
	Name        string // IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	KeyExchange string // "RSA", "DH", "DHE", "ECDH", "ECDHE", "PSK", "DHE_PSK", "RSA_PSK", "ECDHE_PSK", "SRP", "KRB5", "NULL", "ANY" (TLS 1.3)
	Auth        string // "RSA", "DSS", "ECDSA", "anon", "PSK", "KRB5", "NULL", "ANY" (TLS 1.3: negotiated separately)
	Cipher      string // "AES_128", "AES_256", "CHACHA20", "3DES_EDE", "DES", "DES40", "RC4_128", "RC4_40", "RC2_40", "IDEA", "NULL", "CAMELLIA_128", "ARIA_256", "SEED", "SM4", ...
	Mode        string // "GCM", "CCM", "CCM_8", "CBC", "POLY1305", "STREAM", "NULL"
	MAC         string // "SHA", "SHA256", "SHA384", "MD5", "SM3", "AEAD", "NULL"
	Export      bool   // an EXPORT suite
	TLS13       bool   // a TLS 1.3 suite (RFC 8446, B.4)
	Scsv        bool   // a signalling value, not a suite (0x00ff, 0x5600)
}
