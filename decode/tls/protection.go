package tls

// Record is one protected record as the framer read it, handed to a
// Protection between its header and its body (RFC 8446, 5.2; RFC 5246,
// 6.2).
type Record struct {
	Type    uint8  // the header's content type (TLS 1.3: application_data; the real one is inside)
	Version uint16 // legacy_record_version
	// Seq is the record's sequence number in its direction: records
	// read under this Protection before it (RFC 8446, 5.3; RFC 5246,
	// 6.1). It starts at 0 whenever the handshake machine sets a
	// Protection, which it does at every key change it reads
	// (ChangeCipherSpec; in TLS 1.3 the ServerHello, and, once records
	// can be opened, each side's Finished and KeyUpdate). After a gap in
	// the stream (Conn.Gap) records may have gone unseen: Seq counts the
	// records read, and a decrypting Protection must find its place again.
	Seq  uint64
	Body []byte // the fragment as on the wire; valid only during Open
}

// Protection is the record protection of one direction, between the
// record header and the record body. The handshake machine chooses it
// when a direction's keys change; the framer asks it for the plaintext of
// every record it can read and hands that on as if it had been sent in
// the clear. Today there are two: opaque (nothing readable: the records
// are counted and timed, never opened) and NULL-cipher MAC stripping.
// Key-log decryption (decrypt.go: protect13, protect12) is the third,
// set by the machine at the same key changes when it has the secrets.
type Protection interface {
	// Reads says whether Open can read records with this header content
	// type. The framer buffers only those, so application data that no
	// one can read costs no copy.
	Reads(typ uint8) bool
	// Open returns a record's plaintext and its content type: the
	// header's in TLS 1.2 and older, TLSInnerPlaintext.type in TLS 1.3
	// with the padding removed (RFC 8446, 5.4). ok is false when the
	// record cannot be read (a tag that does not verify, a body shorter
	// than its MAC); it then counts as unreadable. plaintext may alias
	// r.Body and is valid only until the next record.
	Open(r Record) (typ uint8, plaintext []byte, ok bool)
}

// opaque is the protection of a direction whose keys are unknown:
// nothing is read.
type opaque struct{}

func (opaque) Reads(uint8) bool                  { return false }
func (opaque) Open(Record) (uint8, []byte, bool) { return 0, nil, false }

// nullMAC is the protection of a NULL-cipher suite (RFC 5246, 6.2.3.1:
// GenericStreamCipher with the null cipher): the fragment is the plaintext
// followed by its MAC, which is dropped unchecked. Only application data
// is read; the Finished and any alert after ChangeCipherSpec stay
// unread, as they always were here.
type nullMAC struct{ macLen int }

func (p nullMAC) Reads(typ uint8) bool { return typ == ContentApplicationData }

func (p nullMAC) Open(r Record) (uint8, []byte, bool) {
	if len(r.Body) < p.macLen {
		return 0, nil, false
	}
	return r.Type, r.Body[:len(r.Body)-p.macLen], true
}

// macLength is the record MAC's length for a suite's MAC algorithm
// (RFC 5246, 6.2.3.1: HMAC output lengths), 0 for AEAD suites.
func macLength(mac string) int {
	switch mac {
	case "MD5":
		return 16
	case "SHA":
		return 20
	case "SHA256":
		return 32
	case "SHA384":
		return 48
	}
	return 0
}
