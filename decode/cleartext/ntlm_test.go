package cleartext

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// TestNTLMSecurityBufferOutsideTheMessage: a security buffer whose offset
// (a uint32 on the wire) or offset plus length points past the message is
// read as empty, on any platform; on 386 an int(offset) of 0xFFFFFFFF is
// -1, which the old bound check let through to a slice that panicked.
func TestNTLMSecurityBufferOutsideTheMessage(t *testing.T) {
	msg := ntlmAuthenticate("CORP", "bob", "WS1", make([]byte, 24))
	// The UserName security buffer is the fourth: its offset field is at
	// 8 (signature) + 4 (type) + 3*8 + 4.
	const userOff = 8 + 4 + 3*8 + 4
	n := 0
	for _, off := range []uint32{0xFFFFFFFF, 0xFFFFFFFE, 0x80000000, uint32(len(msg)), uint32(len(msg)) - 1} {
		b := bytes.Clone(msg)
		binary.LittleEndian.PutUint32(b[userOff:], off)
		a, ok := parseNTLM(b)
		if !ok || a.user != `CORP\` || a.detail != `NTLMv1 response (crackable offline), workstation "WS1"` {
			t.Errorf("UserName at offset %#x: %+v, %v; want the other fields and an empty user", off, a, ok)
		}
		n++
	}
	// In range, the same message gives the user.
	if a, ok := parseNTLM(msg); !ok || a.user != `CORP\bob` {
		t.Errorf("the message itself: %+v, %v", a, ok)
	}
	if n != 5 {
		t.Fatalf("%d offsets tried", n)
	}
}

// TestNTLMTruncated: every strict prefix of an AUTHENTICATE_MESSAGE that
// cuts the fixed header is refused; longer prefixes parse, with the
// buffers that no longer fit read as empty.
func TestNTLMTruncated(t *testing.T) {
	msg := ntlmAuthenticate("CORP", "bob", "WS1", make([]byte, 64))
	const header = 8 + 4 + 6*8 // signature, type, six security buffers
	// The payload after the flags: LM response, NT response, domain,
	// user name ("bob" in UTF-16), workstation.
	const userEnd = header + 4 + 24 + 64 + 8 + 6
	parsed := 0
	for i := 0; i < len(msg); i++ {
		a, ok := parseNTLM(msg[:i])
		if ok != (i >= header) {
			t.Fatalf("prefix of %d bytes: ok %v", i, ok)
		}
		if ok {
			parsed++
			if (a.user == `CORP\bob`) != (i >= userEnd) {
				t.Fatalf("prefix of %d bytes: user %q", i, a.user)
			}
		}
	}
	if parsed != len(msg)-header {
		t.Fatalf("%d prefixes parsed", parsed)
	}
}

// FuzzNTLM: parseNTLM never panics, and what it returns comes from the
// message: the NT response is bytes of it, and the detail names its
// length.
func FuzzNTLM(f *testing.F) {
	f.Add(ntlmAuthenticate("CORP", "bob", "WS1", make([]byte, 64)))
	f.Add(ntlmAuthenticate("", "alice", "", make([]byte, 24)))
	f.Add(ntlmAuthenticate("", "", "", nil))
	huge := ntlmAuthenticate("D", "u", "h", make([]byte, 24))
	binary.LittleEndian.PutUint32(huge[8+4+4:], 0xFFFFFFFF)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := parseNTLM(b)
		if !ok {
			return
		}
		if len(b) < 8+4+6*8 {
			t.Fatalf("a %d-byte message parsed", len(b))
		}
		if !bytes.Contains(b, a.response) {
			t.Fatalf("response %x is not in the message", a.response)
		}
		switch l := len(a.response); l {
		case 0:
			if a.detail != "anonymous" && !bytes.HasPrefix([]byte(a.detail), []byte("anonymous")) {
				t.Fatalf("empty response, detail %q", a.detail)
			}
		case 24:
		default:
			if !bytes.Contains([]byte(a.detail), []byte(strconv.Itoa(l)+" bytes")) {
				t.Fatalf("%d-byte response, detail %q", l, a.detail)
			}
		}
	})
}

// FuzzJWTSummary: jwtSummary never panics, and what it says of a token
// never includes the token's signature (the third part of a JWS).
func FuzzJWTSummary(f *testing.F) {
	f.Add(jwtExample)
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, tok string) {
		d, ok := jwtSummary(tok)
		if !ok {
			if d != "" {
				t.Fatalf("not a JWT, but described: %q", d)
			}
			return
		}
		parts := strings.Split(tok, ".")
		if len(parts) == 3 && len(parts[2]) >= 8 && strings.Contains(d, parts[2]) {
			t.Fatalf("the summary %q shows the signature %q", d, parts[2])
		}
	})
}
