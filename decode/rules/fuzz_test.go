package rules

import (
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// FuzzEvaluate: any combination of session facts (versions, suites,
// compression, extensions, key exchange, alerts, close reasons) is judged
// without panicking, every finding has a defined id, a message and a
// reference, and the order is by severity then id.
func FuzzEvaluate(f *testing.F) {
	f.Add(uint16(0x0303), uint16(0x0303), uint16(0x0004), uint8(0), uint8(0xff), uint8(0), uint8(40), uint16(1024), uint16(23))
	f.Add(uint16(0x0002), uint16(0x0301), uint16(0x0000), uint8(1), uint8(0), uint8(3), uint8(0), uint16(0), uint16(0xff01))
	f.Add(uint16(0x0304), uint16(0x0303), uint16(0x1301), uint8(0), uint8(0x0f), uint8(1), uint8(46), uint16(4096), uint16(19))
	f.Fuzz(func(t *testing.T, version, legacy, suite uint16, compression, flags, closed, alert uint8, dhBits, group uint16) {
		c := handshake12(suite)
		s := c.TLS
		s.Version = version
		s.ClientHello.LegacyVersion = legacy
		s.ServerHello.CompressionMethod = compression
		s.ClientHello.RenegotiationInfo = flags&1 != 0
		s.ServerHello.RenegotiationInfo = flags&2 != 0
		s.ClientHello.Heartbeat, s.ServerHello.Heartbeat = flags&4 != 0, flags&8 != 0
		s.Established = flags&16 != 0
		s.Hidden = flags&32 != 0
		if flags&64 != 0 {
			s.ClientHello.SupportedVersions = []uint16{version, legacy, 0x0a0a}
		}
		if flags&128 != 0 {
			s.ServerHello = nil
		}
		s.ServerHello = func() *tls.ServerHello {
			if s.ServerHello == nil {
				return nil
			}
			s.ServerHello.SSLv2CipherKind = uint32(suite) << 8
			return s.ServerHello
		}()
		c.Closed = []string{"fin", "rst", "end", "idle", ""}[int(closed)%5]
		s.KeyExchange = &tls.KeyExchange{Kind: []string{"DHE", "ECDHE", "RSA", ""}[int(dhBits)%4], DHPrimeBits: int(dhBits), NamedGroup: group}
		s.Alerts = []tls.Alert{{Level: alert & 3, Description: alert, From: tls.Direction(alert & 1), Time: t0}}
		s.Events = []tls.Event{{From: tls.ClientToServer, Content: tls.ContentApplicationData, Length: int(dhBits)}}
		c.Secrets = []facts.Secret{{Kind: []string{"plaintext-pii", "", "unknown-kind"}[int(group)%3], Severity: "x", Time: t0.Add(time.Second)}}
		fs := Evaluate(c, &Config{})
		for i, f := range fs {
			if f.Message == "" || f.ID == "" || f.ConnID != c.ID {
				t.Fatalf("bad finding %+v", f)
			}
			if _, ok := Lookup(f.ID); !ok && f.ID != "unknown-kind" {
				t.Fatalf("undefined id %s", f.ID)
			}
			if i > 0 && (fs[i-1].Severity < f.Severity || fs[i-1].Severity == f.Severity && fs[i-1].ID > f.ID) {
				t.Fatalf("order: %s before %s", fs[i-1].ID, f.ID)
			}
		}
	})
}
