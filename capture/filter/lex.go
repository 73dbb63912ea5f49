package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// tokKind classifies a token of a tcpdump expression.
type tokKind int

const (
	tokEOF   tokKind = iota
	tokWord          // keyword or name (escaped with '\' when esc is set)
	tokNum           // number: decimal, 0x hex or 0 octal, as libpcap reads them
	tokAddr4         // dotted IPv4 address, possibly partial ("10.1")
	tokAddr6         // IPv6 address
	tokMAC           // Ethernet address
	tokOp            // punctuation and operators
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the expression
	num  uint32
	esc  bool // word was written with a leading backslash: never a keyword
}

// lex splits an expression into tokens the way libpcap's scanner does
// for the supported subset: a run of letters, digits, '.', '_' and '-'
// is one word ("tcp-syn", "1-1024"), a run also holding ':' is one word
// when it is an IPv6 or Ethernet address.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\\':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, errAt(i, "a name must follow '\\'")
			}
			toks = append(toks, token{kind: tokWord, text: s[i+1 : j], pos: i, esc: true})
			i = j
			continue
		case isWordByte(c) && c != '-' && c != '.' || c == ':' && i+1 < len(s) && s[i+1] == ':':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == ':') {
				j++
			}
			w := s[i:j]
			if strings.Contains(w, ":") {
				if a, err := netip.ParseAddr(w); err == nil && a.Is6() && a.Zone() == "" {
					toks = append(toks, token{kind: tokAddr6, text: w, pos: i})
					i = j
					continue
				}
				if _, ok := parseMAC(w); ok {
					toks = append(toks, token{kind: tokMAC, text: w, pos: i})
					i = j
					continue
				}
				j = i
				for j < len(s) && isWordByte(s[j]) {
					j++
				}
				if j == i {
					toks = append(toks, token{kind: tokOp, text: ":", pos: i})
					i++
					continue
				}
				w = s[i:j]
			}
			toks = append(toks, classifyWord(w, i))
			i = j
			continue
		}
		// Operators, longest first.
		op := ""
		for _, o := range []string{"&&", "||", "==", "!=", "<=", ">=", "<<", ">>"} {
			if strings.HasPrefix(s[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			if !strings.ContainsRune("()[]:&|!=<>+-*/%^", rune(c)) {
				return nil, errAt(i, "unexpected character %q", string(rune(c)))
			}
			op = s[i : i+1]
		}
		toks = append(toks, token{kind: tokOp, text: op, pos: i})
		i += len(op)
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// classifyWord tells numbers and dotted IPv4 addresses from names.
func classifyWord(w string, pos int) token {
	if n, ok := parseNum(w); ok {
		return token{kind: tokNum, text: w, pos: pos, num: n}
	}
	if _, _, ok := parseDotted(w); ok {
		return token{kind: tokAddr4, text: w, pos: pos}
	}
	if _, ok := parseMAC(w); ok {
		return token{kind: tokMAC, text: w, pos: pos}
	}
	return token{kind: tokWord, text: w, pos: pos}
}

// parseNum reads a number as libpcap does: 0x hex, leading 0 octal,
// otherwise decimal; it must fit in 32 bits.
func parseNum(w string) (uint32, bool) {
	base := 10
	d := w
	switch {
	case strings.HasPrefix(w, "0x") || strings.HasPrefix(w, "0X"):
		base, d = 16, w[2:]
	case len(w) > 1 && w[0] == '0':
		base, d = 8, w[1:]
	}
	if d == "" || d[0] == '+' || d[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(d, base, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// parseDotted reads a full or partial dotted IPv4 address ("10", "10.1",
// "10.1.2.3"): the address and how many octets were written.
func parseDotted(w string) (uint32, int, bool) {
	parts := strings.Split(w, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return 0, 0, false
	}
	var a uint32
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return 0, 0, false
		}
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return 0, 0, false
		}
		a = a<<8 | uint32(n)
	}
	return a << (8 * (4 - len(parts))), len(parts), true
}

// parseMAC reads xx:xx:xx:xx:xx:xx (also '-' or '.' separated, or
// xxxx.xxxx.xxxx as libpcap accepts).
func parseMAC(w string) ([6]byte, bool) {
	var m [6]byte
	hex := ""
	switch {
	case strings.Count(w, ":") == 5:
		for _, p := range strings.Split(w, ":") {
			if len(p) == 0 || len(p) > 2 {
				return m, false
			}
			hex += strings.Repeat("0", 2-len(p)) + p
		}
	case strings.Count(w, "-") == 5:
		return parseMAC(strings.ReplaceAll(w, "-", ":"))
	case strings.Count(w, ".") == 2:
		for _, p := range strings.Split(w, ".") {
			if len(p) != 4 {
				return m, false
			}
			hex += p
		}
	default:
		return m, false
	}
	for i := range m {
		n, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return m, false
		}
		m[i] = byte(n)
	}
	return m, true
}
