package html

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"
)

// Chart geometry, in SVG user units (pixels at 100%).
const (
	chartWidth = 420
	labelWidth = 190
	barHeight  = 16
	barGap     = 4
	maxBars    = 12
)

func esc(s string) string { return template.HTMLEscapeString(s) }

// clip shortens a label to n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// barChart draws a horizontal bar chart: one bar per item (the first
// maxBars, the rest summed as "other"), coloured by class[key] if given.
func barChart(title string, items []count, class map[string]string) template.HTML {
	var b strings.Builder
	if len(items) > maxBars {
		other := 0
		for _, it := range items[maxBars-1:] {
			other += it.N
		}
		items = append(items[:maxBars-1:maxBars-1], count{Key: fmt.Sprintf("%d others", len(items)-maxBars+1), N: other})
	}
	top := 1
	for _, it := range items {
		top = max(top, it.N)
	}
	h := 24 + max(1, len(items))*(barHeight+barGap)
	fmt.Fprintf(&b, `<figure><svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartWidth, h, chartWidth, h, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="14" class="t">%s</text>`, esc(title))
	if len(items) == 0 {
		fmt.Fprintf(&b, `<text x="0" y="36">none</text>`)
	}
	room := chartWidth - labelWidth - 40
	for i, it := range items {
		y := 24 + i*(barHeight+barGap)
		w := max(1, it.N*room/top)
		c := "bar"
		if class != nil && class[it.Key] != "" {
			c += " " + class[it.Key]
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>`, labelWidth-6, y+12, esc(it.Key), esc(clip(it.Key, 22)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"/>`, labelWidth, y, w, barHeight, c)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%d</text>`, labelWidth+w+4, y+12, it.N)
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}

// expiryLabel is how many characters of a certificate's name the expiry
// chart's label shows (what fits labelWidth at 12 px).
const expiryLabel = 26

// expiryChart draws each leaf certificate's validity as a bar on one time
// axis, with a tick where the capture saw it: red when it had expired,
// amber when it had under 30 days left, grey when not yet valid.
func expiryChart(certs []leafCert) template.HTML {
	const title = "Certificate validity (tick: when seen)"
	var b strings.Builder
	if len(certs) > maxBars {
		certs = certs[:maxBars]
	}
	// Wider than the bar charts: the label names the certificate (up to
	// expiryLabel characters) and its notAfter date follows its bar.
	const dateRoom = 76
	w := chartWidth + dateRoom
	h := 40 + max(1, len(certs))*(barHeight+barGap)
	fmt.Fprintf(&b, `<figure><svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text x="0" y="14" class="t">%s</text>`, esc(title))
	if len(certs) == 0 {
		b.WriteString(`<text x="0" y="36">no certificates seen</text></svg></figure>`)
		return template.HTML(b.String())
	}
	lo, hi := certs[0].Cert.NotBefore, certs[0].Cert.NotAfter
	for _, c := range certs {
		lo = minTime(lo, minTime(c.Cert.NotBefore, c.Seen))
		hi = maxTime(hi, maxTime(c.Cert.NotAfter, c.Seen))
	}
	span := hi.Sub(lo)
	if span <= 0 {
		span = time.Hour
	}
	room := float64(chartWidth - labelWidth - 10)
	x := func(t time.Time) float64 { return float64(labelWidth) + room*float64(t.Sub(lo))/float64(span) }
	for i, c := range certs {
		y := 24 + i*(barHeight+barGap)
		class := "bar ok"
		switch {
		case c.Cert.NotAfter.Before(c.Seen):
			class = "bar high"
		case c.Cert.NotBefore.After(c.Seen):
			class = "bar info"
		case c.Within(30):
			class = "bar medium"
		}
		label := fmt.Sprintf("%s: %s to %s, %d days left when seen", c.Name,
			c.Cert.NotBefore.UTC().Format(time.DateOnly), c.Cert.NotAfter.UTC().Format(time.DateOnly), c.DaysLeft())
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>`, labelWidth-6, y+12, esc(label), esc(clip(c.Name, expiryLabel)))
		x0, x1 := x(c.Cert.NotBefore), x(c.Cert.NotAfter)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="ax">%s</text>`, x1+4, y+11, c.Cert.NotAfter.UTC().Format(time.DateOnly))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" class="%s"><title>%s</title></rect>`, x0, y, max(1, x1-x0), barHeight, class, esc(label))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="seen"/>`, x(c.Seen), x(c.Seen), y-2, y+barHeight+2)
	}
	y := 24 + len(certs)*(barHeight+barGap) + 10
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="ax">%s</text>`, labelWidth, y, lo.UTC().Format(time.DateOnly))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="ax">%s</text>`, chartWidth-10, y, hi.UTC().Format(time.DateOnly))
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
