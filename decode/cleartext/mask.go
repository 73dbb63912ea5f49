package cleartext

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mask hides a secret but keeps enough to recognise it: a short prefix and
// the length, e.g. "hun*** (7 chars)". The prefix shrinks with the value so
// that short secrets show at most a third of their characters.
func Mask(value string) string {
	n := utf8.RuneCountInString(value)
	keep := 0
	switch {
	case n >= 7:
		keep = 3
	case n >= 5:
		keep = 2
	case n >= 3:
		keep = 1
	}
	var b strings.Builder
	i := 0
	for _, r := range value {
		if i == keep {
			break
		}
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
		i++
	}
	b.WriteString("*** (")
	b.WriteString(strconv.Itoa(n))
	if n == 1 {
		b.WriteString(" char)")
	} else {
		b.WriteString(" chars)")
	}
	return b.String()
}

// MaskCard shows a card number as PCI DSS allows: the first six and last
// four digits, e.g. "411111******1111". Separators are dropped; anything
// that is not a 13-19 digit number is masked like any other secret.
func MaskCard(number string) string {
	d := digitsOnly(number)
	if len(d) < 13 || len(d) > 19 {
		return Mask(number)
	}
	return d[:6] + strings.Repeat("*", len(d)-10) + d[len(d)-4:]
}

// MaskToken names a token by its type and a short hash of its value, e.g.
// "github-pat sha256:3f2a9c01…": enough to tell two tokens apart or match
// one against a known value, nothing of the token itself.
func MaskToken(kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	if kind == "" {
		kind = "token"
	}
	return kind + " sha256:" + hex.EncodeToString(sum[:4]) + "…"
}

func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
