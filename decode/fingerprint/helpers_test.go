package fingerprint

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// wireHello is one hello message as tshark found it on the wire: the
// independent extraction the fingerprint tests parse and compare with
// peer-tool output.
type wireHello struct {
	Frame  int
	UDP    bool // QUIC (or DTLS): out of scope for the TCP comparisons
	Stream int  // tcp.stream / udp.stream index
	Type   byte // handshake type: 1 ClientHello, 2 ServerHello
	Body   []byte
	// SSLv2 is set for an SSLv2-format CLIENT-HELLO record; Body is then
	// the record body after the 2-byte record header (msg_type first).
	SSLv2 bool
}

// tsharkOptions are the extra options the corpus builder used for some
// captures (INDEX.md, "Special tshark options"); hellos need only the port
// mapping.
var tsharkOptions = map[string][]string{
	"tls_port_80.pcapng": {"-d", "tcp.port==80,tls"},
}

var helloCache sync.Map // pcap path -> []wireHello

// tsharkHellos returns every ClientHello and ServerHello of a capture in
// frame order, with the handshake bytes tshark reassembled (tls.handshake_raw
// under -T json -x), so the tests parse exactly the bytes tshark dissected.
// Results are cached per capture for the test binary's lifetime.
func tsharkHellos(t testing.TB, pcap string) []wireHello {
	t.Helper()
	if v, ok := helloCache.Load(pcap); ok {
		return v.([]wireHello)
	}
	tshark := testutil.Tool(t, "tshark")
	args := []string{"-r", pcap, "-n", "-o", "tcp.reassemble_out_of_order:TRUE",
		"-Y", "tls.handshake.type==1 || tls.handshake.type==2", "-T", "json", "-x"}
	args = append(args, tsharkOptions[filepath.Base(pcap)]...)
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark on %s: %v\n%s", pcap, err, stderr.Bytes())
	}
	hs, err := parseTsharkJSON(out)
	if err != nil {
		t.Fatalf("tshark JSON of %s: %v", pcap, err)
	}
	helloCache.Store(pcap, hs)
	return hs
}

// parseTsharkJSON walks tshark's -T json -x output token by token (it
// repeats keys inside one object, which encoding/json maps would merge) and
// collects, per packet, frame.number, the TCP or UDP stream index, every
// tls.handshake_raw holding a ClientHello or ServerHello, and SSLv2
// CLIENT-HELLO records (tls.record_raw with a 2-byte header, msg_type 1).
func parseTsharkJSON(data []byte) ([]wireHello, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("want a JSON array, got %v (%v)", tok, err)
	}
	var out []wireHello
	for dec.More() {
		p := &packetState{stream: -1}
		if err := p.walk(dec, ""); err != nil {
			return nil, err
		}
		for _, h := range p.hellos {
			h.Frame, h.UDP, h.Stream = p.frame, p.udp, p.stream
			out = append(out, h)
		}
	}
	return out, nil
}

type packetState struct {
	frame  int
	udp    bool
	stream int
	hellos []wireHello
}

// walk consumes one JSON value whose key is key.
func (p *packetState) walk(dec *json.Decoder, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return p.walkFrom(dec, key, tok)
}

// walkFrom consumes the rest of the value that starts with tok.
func (p *packetState) walkFrom(dec *json.Decoder, key string, tok json.Token) error {
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			ks, ok := k.(string)
			if !ok {
				return fmt.Errorf("object key %v", k)
			}
			if err := p.walk(dec, ks); err != nil {
				return err
			}
		}
		_, err := dec.Token() // '}'
		return err
	case json.Delim('['):
		// A raw field is [hex, offset, length, bitmask, type]: the hex
		// string comes first.
		for i := 0; dec.More(); i++ {
			el, err := dec.Token()
			if err != nil {
				return err
			}
			if s, ok := el.(string); ok && i == 0 && (key == "tls.handshake_raw" || key == "tls.record_raw") {
				p.raw(key, s)
				continue
			}
			if err := p.walkFrom(dec, key, el); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	s, _ := tok.(string)
	switch key {
	case "frame.number":
		p.frame, _ = strconv.Atoi(s)
	case "tcp.stream":
		p.stream, _ = strconv.Atoi(s)
	case "udp.stream":
		p.stream, _ = strconv.Atoi(s)
		p.udp = true
	}
	return nil
}

func (p *packetState) raw(key, s string) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 4 {
		return
	}
	switch key {
	case "tls.handshake_raw":
		if b[0] != 1 && b[0] != 2 {
			return
		}
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if len(b) != 4+n {
			return // a fragment; tshark gives the reassembled message too
		}
		p.hellos = append(p.hellos, wireHello{Type: b[0], Body: b[4:]})
	case "tls.record_raw":
		// SSLv2 record with a 2-byte header (RFC 6101, E.1; draft-hickman
		// SSL 2.0 2.1): high bit set, 15-bit length, then msg_type.
		if b[0]&0x80 == 0 || b[2] != 1 {
			return
		}
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if len(b) != 2+n {
			return
		}
		p.hellos = append(p.hellos, wireHello{Type: 1, Body: b[2:], SSLv2: true})
	}
}
