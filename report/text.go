package report

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

const ellipsis = "…"

// Printable makes text taken from traffic safe for a terminal or a
// document: invalid UTF-8 and control characters (escape sequences could
// move the cursor or rewrite the screen) become "?", and invisible format
// characters (bidi overrides and isolates, zero-width spaces and joiners,
// the BOM: Unicode category Cf), which can make text read other than it
// is (CVE-2021-42574), are shown escaped as [U+202E].
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "?") {
		switch {
		case r == utf8.RuneError || unicode.IsControl(r):
			b.WriteByte('?')
		case unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func printable(s string) string { return Printable(s) }

// textWidth is the number of terminal columns s takes, measured as
// tablewriter measures it (wide East Asian characters take two).
func textWidth(s string) int { return twwidth.Width(s) }

// takeWidth returns the longest prefix of s at most n columns wide.
func takeWidth(s string, n int) string {
	w := 0
	for i, r := range s {
		rw := textWidth(string(r))
		if w+rw > n {
			return s[:i]
		}
		w += rw
	}
	return s
}

// takeWidthRight returns the longest suffix of s at most n columns wide.
func takeWidthRight(s string, n int) string {
	w := 0
	for i := len(s); i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		rw := textWidth(string(r))
		if w+rw > n {
			return s[i:]
		}
		w += rw
		i -= size
	}
	return s
}

// truncate cuts s to at most n columns, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = printable(s) // measured as printed: a control character takes a column
	if textWidth(s) <= n {
		return s
	}
	return takeWidth(s, n-textWidth(ellipsis)) + ellipsis
}

// truncateMiddle keeps both ends of s (useful where the end carries
// meaning, like a port or a domain).
func truncateMiddle(s string, n int) string {
	s = printable(s)
	if textWidth(s) <= n {
		return s
	}
	if n < 5 {
		return truncate(s, n)
	}
	budget := n - textWidth(ellipsis)
	tail := budget / 2
	return takeWidth(s, budget-tail) + ellipsis + takeWidthRight(s, tail)
}

// truncateEndpoint fits "ip:port" into n runes keeping the port: an IPv6
// address keeps its first and last groups ("[2001:…:1]:443"); any address
// then loses its middle.
func truncateEndpoint(s string, n int) string {
	if textWidth(s) <= n {
		return s
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return truncateMiddle(s, n)
	}
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		groups := strings.Split(ap.Addr().String(), ":")
		short := fmt.Sprintf("[%s:%s:%s]:%d", groups[0], ellipsis, groups[len(groups)-1], ap.Port())
		if textWidth(short) <= n {
			return short
		}
		s = short
	}
	port := fmt.Sprintf(":%d", ap.Port())
	host := strings.TrimSuffix(s, port)
	if n <= len(port)+2 {
		return truncateMiddle(s, n)
	}
	return truncateMiddle(host, n-len(port)) + port
}

// truncateClient fits a client endpoint into n runes, giving up the
// (ephemeral) port before any of the address.
func truncateClient(s string, n int) string {
	if textWidth(s) <= n {
		return s
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return truncateMiddle(ap.Addr().String(), n)
	}
	return truncateMiddle(s, n)
}

// suiteReplacer turns the parts of an IANA suite name into OpenSSL-like
// short forms; it only shortens for display, rules never see it.
var suiteReplacer = strings.NewReplacer(
	"AES_128", "AES128", "AES_256", "AES256",
	"CAMELLIA_128", "CAMELLIA128", "CAMELLIA_256", "CAMELLIA256",
	"ARIA_128", "ARIA128", "ARIA_256", "ARIA256",
	"3DES_EDE_CBC", "3DES-CBC", "RC4_128", "RC4", "RC4_40", "RC4-40",
	"DES40_CBC", "DES40-CBC", "RC2_CBC_40", "RC2-40",
	"CHACHA20_POLY1305", "CHACHA20-POLY1305",
	"_", "-",
)

// ShortSuite abbreviates an IANA cipher suite name for narrow tables:
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> ECDHE-RSA-AES128-GCM-SHA256,
// TLS_AES_256_GCM_SHA384 -> AES256-GCM-SHA384. Other text is returned as is.
func ShortSuite(name string) string {
	rest, ok := strings.CutPrefix(name, "TLS_")
	if !ok {
		rest, ok = strings.CutPrefix(name, "SSL_")
		if !ok {
			return name
		}
	}
	kx, cipher, found := strings.Cut(rest, "_WITH_")
	if !found {
		return suiteReplacer.Replace(rest)
	}
	return suiteReplacer.Replace(kx) + "-" + suiteReplacer.Replace(cipher)
}

// ByteSize prints a byte count with a binary unit.
func ByteSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// wrapItems joins items with ", " into lines of at most width columns
// (0: one line), the first starting after prefix and the rest indented to
// its width; an item is never cut.
func wrapItems(prefix string, items []string, width int) []string {
	indent := strings.Repeat(" ", textWidth(prefix))
	var lines []string
	line := prefix
	empty := true
	for i, it := range items {
		it = printable(it) // as printed: a control character takes a column
		if i < len(items)-1 {
			it += ","
		}
		sep := " "
		if empty {
			sep = ""
		}
		if !empty && width > 0 && textWidth(line)+1+textWidth(it) > width {
			lines = append(lines, line)
			line, sep = indent, ""
		}
		line += sep + it
		empty = false
	}
	lines = append(lines, line)
	var out []string
	for _, l := range lines { // an item wider than a line wraps at its spaces
		out = append(out, wrapLine(l, width)...)
	}
	return out
}
