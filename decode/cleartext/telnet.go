package cleartext

import (
	"bytes"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// Telnet (RFC 854): option negotiation is stripped (IAC WILL/WONT/DO/DONT
// x, IAC SB ... IAC SE, IAC IAC as a data 0xFF), server output is watched
// for "login:" and "Password:" prompts, and the client's next line after a
// prompt is taken as the user name or the password. Best effort: a shell
// that prompts differently is not followed.

const (
	iacNormal uint8 = iota
	iacCmd          // after IAC
	iacOpt          // after IAC WILL/WONT/DO/DONT: one option byte
	iacSub          // inside IAC SB
	iacSubIAC       // IAC inside SB
)

const (
	telnetIAC  = 255
	telnetSB   = 250
	telnetSE   = 240
	telnetWILL = 251
	telnetDONT = 254
)

type telnetState struct {
	iac    [2]uint8
	line   []byte // the client's current line, up to maxLine bytes
	over   bool   // the current line went past maxLine (reported once)
	tail   []byte // the end of the server's recent output
	expect uint8  // 1: a user name is expected, 2: a password
	user   string
}

// stripIAC removes Telnet commands from data, keeping the per-direction
// state across calls, and returns the data bytes.
func stripIAC(state *uint8, data []byte, out []byte) []byte {
	for _, b := range data {
		switch *state {
		case iacNormal:
			if b == telnetIAC {
				*state = iacCmd
				continue
			}
			out = append(out, b)
		case iacCmd:
			switch {
			case b == telnetIAC:
				out = append(out, b)
				*state = iacNormal
			case b >= telnetWILL && b <= telnetDONT:
				*state = iacOpt
			case b == telnetSB:
				*state = iacSub
			default:
				*state = iacNormal
			}
		case iacOpt:
			*state = iacNormal
		case iacSub:
			if b == telnetIAC {
				*state = iacSubIAC
			}
		case iacSubIAC:
			if b == telnetSE {
				*state = iacNormal
			} else {
				*state = iacSub
			}
		}
	}
	return out
}

func (c *lineConn) telnetFeed(dir tls.Direction, data []byte) {
	t := &c.telnet
	var scratch [512]byte
	for len(data) > 0 {
		n := min(len(data), len(scratch))
		text := stripIAC(&t.iac[dir&1], data[:n], scratch[:0])
		data = data[n:]
		if dir == tls.ServerToClient {
			t.serverText(text)
			continue
		}
		for _, b := range text {
			switch b {
			case '\r', '\n', 0:
				if len(t.line) > 0 {
					c.telnetLine(string(t.line))
					t.line = t.line[:0]
				}
				t.over = false
			case 8, 0x7f: // backspace, delete
				if len(t.line) > 0 {
					t.line = t.line[:len(t.line)-1]
				}
			default:
				if len(t.line) < maxLine { // maxLine is enforced here for Telnet
					t.line = append(t.line, b)
				} else if !t.over {
					t.over = true
					c.s.truncated(AnomalyLineTooLong, dir, string(Telnet))
				}
			}
		}
	}
}

var (
	loginPrompts = [][]byte{[]byte("login:"), []byte("username:"), []byte("user name:"), []byte("user:")}
	passPrompts  = [][]byte{[]byte("password:"), []byte("passcode:"), []byte("passwd:")}
)

// serverText watches for a prompt. A prompt is recognised at its colon,
// wherever the server's output happens to be cut into segments.
func (t *telnetState) serverText(text []byte) {
	for _, b := range text {
		if len(t.tail) >= 32 {
			copy(t.tail, t.tail[1:])
			t.tail = t.tail[:31]
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		t.tail = append(t.tail, b)
		if b != ':' {
			continue
		}
		for _, p := range passPrompts {
			if bytes.HasSuffix(t.tail, p) {
				t.expect = 2
			}
		}
		for _, p := range loginPrompts {
			if bytes.HasSuffix(t.tail, p) {
				t.expect = 1
			}
		}
	}
}

func (c *lineConn) telnetLine(line string) {
	t := &c.telnet
	switch t.expect {
	case 1:
		t.user = line
	case 2:
		c.secret("password", "Password:", t.user, line, Mask(line), "telnet login", "")
	}
	t.expect = 0
}
