package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// Tally is the running count behind a capture's summary: everything the
// summary record, the table's summary lines and --fail-on read of the
// connections and findings, counted as each connection closes, so a run
// that prints connections as it goes (live capture, streamed NDJSON)
// keeps nothing per connection once it has been printed. Its size
// depends on how many distinct protocols, versions and suites were seen,
// not on how many connections.
type Tally struct {
	Connections int
	Protocols   map[string]int // by facts.Connection.Protocol, "unknown" when unset
	Handshakes  Handshakes
	Findings    [facts.Critical + 1]int // by severity
	// ByID counts findings by id and severity (for the --fail-on line on
	// standard error; the summary records do not carry it).
	ByID map[string]*[facts.Critical + 1]int
	// Suppressed counts, by id, the findings the policy suppressed
	// (facts.Connection.Suppressed); the summaries print it.
	Suppressed map[string]int
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{Protocols: map[string]int{}, Suppressed: map[string]int{}, ByID: map[string]*[facts.Critical + 1]int{}, Handshakes: Handshakes{Versions: map[string]int{}, Suites: map[string]int{}}}
}

// TallyOf counts whole connections and findings, as a capture that keeps
// them is summarised.
func TallyOf(conns []*facts.Connection, findings []facts.Finding) *Tally {
	t := NewTally()
	for _, c := range conns {
		t.AddConnection(c)
	}
	t.AddFindings(findings)
	return t
}

// AddConnection counts one connection.
func (t *Tally) AddConnection(c *facts.Connection) {
	t.Connections++
	p := c.Protocol
	if p == "" {
		p = "unknown"
	}
	t.Protocols[p]++
	t.Handshakes.add(c)
	for _, id := range c.Suppressed {
		t.Suppressed[id]++
	}
}

// AddFindings counts findings by severity.
func (t *Tally) AddFindings(fs []facts.Finding) {
	for _, f := range fs {
		i := sevIndex(f.Severity)
		t.Findings[i]++
		n := t.ByID[f.ID]
		if n == nil {
			n = new([facts.Critical + 1]int)
			t.ByID[f.ID] = n
		}
		n[i]++
	}
}

// sevIndex keeps an out-of-range severity countable (as info or critical).
func sevIndex(s facts.Severity) int {
	return int(min(max(s, facts.Info), facts.Critical))
}

// Merge adds o's counts to t.
func (t *Tally) Merge(o *Tally) {
	t.Connections += o.Connections
	for k, n := range o.Protocols {
		t.Protocols[k] += n
	}
	t.Handshakes.TLS += o.Handshakes.TLS
	t.Handshakes.Complete += o.Handshakes.Complete
	t.Handshakes.Failed += o.Handshakes.Failed
	for k, n := range o.Handshakes.Versions {
		t.Handshakes.Versions[k] += n
	}
	for k, n := range o.Handshakes.Suites {
		t.Handshakes.Suites[k] += n
	}
	for k, n := range o.Handshakes.Decryption {
		if t.Handshakes.Decryption == nil {
			t.Handshakes.Decryption = map[string]int{}
		}
		t.Handshakes.Decryption[k] += n
	}
	for i, n := range o.Findings {
		t.Findings[i] += n
	}
	for id, n := range o.Suppressed {
		t.Suppressed[id] += n
	}
	for id, o := range o.ByID {
		n := t.ByID[id]
		if n == nil {
			n = new([facts.Critical + 1]int)
			t.ByID[id] = n
		}
		for i, c := range o {
			n[i] += c
		}
	}
}

// AtLeast counts, by id, the findings at or above severity s.
func (t *Tally) AtLeast(s facts.Severity) map[string]int {
	out := map[string]int{}
	for id, n := range t.ByID {
		for i := sevIndex(s); i < len(n); i++ {
			if n[i] > 0 {
				out[id] += n[i]
			}
		}
	}
	return out
}

// FindingCount is the number of findings counted.
func (t *Tally) FindingCount() int {
	n := 0
	for _, k := range t.Findings {
		n += k
	}
	return n
}

// Worst is the highest severity counted, and false when there is none.
func (t *Tally) Worst() (facts.Severity, bool) {
	for s := int(facts.Critical); s >= int(facts.Info); s-- {
		if t.Findings[s] > 0 {
			return facts.Severity(s), true
		}
	}
	return 0, false
}

// bySeverity is the summary record's findings map.
func (t *Tally) bySeverity() map[string]int {
	m := map[string]int{}
	for s, n := range t.Findings {
		if n > 0 {
			m[facts.Severity(s).String()] = n
		}
	}
	return m
}

// Counts returns the capture's tally: c.Tally when the run counted as it
// went, else counted from c.Connections and c.Findings.
func (c *Capture) Counts() *Tally {
	if c.Tally != nil {
		return c.Tally
	}
	return TallyOf(c.Connections, c.Findings)
}

// Counts merges every capture's tally.
func (r *Result) Counts() *Tally {
	t := NewTally()
	for _, c := range r.Captures {
		t.Merge(c.Counts())
	}
	return t
}

// Worst is the highest severity among every capture's findings, and false
// when there is none (what --fail-on compares).
func (r *Result) Worst() (facts.Severity, bool) {
	return r.Counts().Worst()
}

// NewTallySummary is NewSummaryRecord from a tally.
func NewTallySummary(scope, capture string, st facts.Stats, t *Tally) SummaryRecord {
	s := SummaryRecord{
		Type: "summary", Scope: scope, Capture: capture, Files: st.Files,
		Packets: st.Packets, Bytes: st.Bytes, Connections: t.Connections,
		TLSConnections: t.Handshakes.TLS, HandshakesComplete: t.Handshakes.Complete, HandshakesFailed: t.Handshakes.Failed,
		Versions: maps.Clone(t.Handshakes.Versions), Suites: maps.Clone(t.Handshakes.Suites),
		Protocols: maps.Clone(t.Protocols), Findings: t.bySeverity(),
		First: ts(st.First), Last: ts(st.Last), DurationSeconds: span(st).Seconds(),
		Gaps: st.Gaps, TruncatedPackets: st.Truncated, Evicted: st.Evicted,
		Filtered: st.Filtered, NonIP: st.NonIP, NonTCP: st.NonTCP,
		KernelReceived: st.KernelReceived, KernelDropped: st.KernelDropped,
		Anomalies: map[string]uint64{},
		Shard:     st.Shard.String(), OtherShard: st.OtherShard,
		Decryption: maps.Clone(t.Handshakes.Decryption),
	}
	if len(t.Suppressed) > 0 {
		s.Suppressed = maps.Clone(t.Suppressed)
	}
	for k, n := range st.Anomalies {
		s.Anomalies[k] = n
	}
	for _, m := range []*map[string]int{&s.Versions, &s.Suites, &s.Protocols} {
		if *m == nil {
			*m = map[string]int{}
		}
	}
	return s
}

// CaptureSummary is the capture's summary record.
func CaptureSummary(c *Capture) SummaryRecord {
	return NewTallySummary("capture", c.Name, c.Stats, c.Counts())
}

// TotalSummary is the run's summary record (the last NDJSON line).
func TotalSummary(r *Result) SummaryRecord {
	return NewTallySummary("total", "", r.Totals(), r.Counts())
}

// AtLeastLine says, in one line, how many findings are at or above s and
// of which ids ("2 findings at or above high: cert-expired 1,
// cert-untrusted 1"), for the line a failing --fail-on prints.
func (t *Tally) AtLeastLine(s facts.Severity) string {
	by := t.AtLeast(s)
	ids := slices.Sorted(maps.Keys(by))
	n, parts := 0, make([]string, len(ids))
	for i, id := range ids {
		n += by[id]
		parts[i] = fmt.Sprintf("%s %d", id, by[id])
	}
	noun := "findings"
	if n == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s at or above %s: %s", n, noun, s, strings.Join(parts, ", "))
}
