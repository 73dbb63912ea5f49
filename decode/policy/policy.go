// Package policy reads a tlsscope policy file (YAML, described by
// policy.schema.json beside this file) and applies it to a run: checks of
// the connection facts against what the site expects (minimum version,
// allowed and denied suites, expected SNIs, certificate pins), severity
// overrides per finding id, and suppressions with a reason and an optional
// expiry. Baseline writes a policy that suppresses every finding of a run,
// so a later run reports only what is new.
package policy

import (
	_ "embed"
	"encoding/json"
	"github.com/tlsscope/tlsscope/internal/pathcause"
	"io"

	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Schema is the JSON Schema of a policy file (policy.schema.json), which
// `tlsscope policy schema` prints.
//
//go:embed policy.schema.json
var Schema []byte

// Policy is the file's content. Every field is optional.
type Policy struct {
	Version       int               `yaml:"version,omitempty"`
	MinVersion    string            `yaml:"min_version,omitempty"`    // "TLS 1.2"
	AllowedSuites []string          `yaml:"allowed_suites,omitempty"` // IANA names or 0x hex
	DeniedSuites  []string          `yaml:"denied_suites,omitempty"`
	Severity      map[string]string `yaml:"severity,omitempty"`      // finding id -> severity
	ExpectedSNIs  []string          `yaml:"expected_snis,omitempty"` // globs
	Pins          []Pin             `yaml:"pins,omitempty"`
	Suppress      []Suppression     `yaml:"suppress,omitempty"`

	// File is the file Load read the policy from ("" from Parse), for
	// messages about it.
	File string `yaml:"-"`

	minVersion uint16
	allowed    []uint16
	denied     []uint16
	severity   map[string]facts.Severity
}

// Pin expects the certificate chain of the servers it matches to contain
// one of the SHA-256 fingerprints (of the whole certificate, hex).
type Pin struct {
	SNI    string   `yaml:"sni,omitempty"`    // glob
	Server string   `yaml:"server,omitempty"` // address, address:port or prefix
	SHA256 []string `yaml:"sha256"`
}

// Suppression hides findings that match every field it sets.
type Suppression struct {
	ID          string `yaml:"id,omitempty"`
	SNI         string `yaml:"sni,omitempty"`    // glob
	Server      string `yaml:"server,omitempty"` // address, address:port or prefix
	Fingerprint string `yaml:"fingerprint,omitempty"`
	Reason      string `yaml:"reason"`
	Expires     string `yaml:"expires,omitempty"` // YYYY-MM-DD or RFC 3339

	expires time.Time
}

// MaxSize is the largest policy Load and Parse read (a baseline of
// 10,000 findings is about 2 MiB; parsing YAML takes some 50 times its
// size in memory, so a huge file is refused rather than parsed).
const MaxSize = 8 << 20

// Load reads and checks a policy file.
func Load(file string) (*Policy, error) {
	f, err := os.Open(file)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(f, MaxSize+1))
		f.Close()
	}
	var p *Policy
	if err == nil {
		p, err = Parse(b)
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy %s: %w", file, pathcause.Of(err))
	}
	p.File = file
	return p, nil
}

var yamlPos = regexp.MustCompile(`^\[(\d+):(\d+)\] `)

// Parse reads a policy; unknown keys are an error that names the key.
func Parse(b []byte) (p *Policy, err error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("over %d MiB, the largest policy read: split it, or suppress by id and server rather than one entry per finding", MaxSize>>20)
	}
	// goccy/go-yaml v1.19.2 panics on some malformed documents (a tag on a
	// sequence; FuzzParse found it): that is a bad file, not a crash.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("not a valid policy: the YAML parser failed (%v)", r)
		}
	}()
	p = &Policy{}
	if err := yaml.UnmarshalWithOptions(b, p, yaml.Strict()); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		msg = yamlPos.ReplaceAllString(msg, "line $1, column $2: ")
		return nil, errors.New(msg)
	}
	if err := p.check(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			if line := lineOf(b, fe.path); line > 0 {
				return nil, fmt.Errorf("line %d: %w", line, fe.err)
			}
			return nil, fe.err
		}
		return nil, err
	}
	return p, nil
}

// fieldError is a check failure at a YAML path ("$.suppress[2].id"),
// which Parse turns into the line it is on.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func at(path string, err error) error { return &fieldError{path, err} }

// lineOf is the line of the node at path in the YAML document b, 0 when
// it cannot be found.
func lineOf(b []byte, path string) int {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return 0
	}
	yp, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	n, err := yp.FilterFile(f)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// checkID refuses a finding id no rule or policy check reports (a typo
// would silently suppress nothing), naming the closest one.
func checkID(field, id string) error {
	if _, ok := rules.Lookup(id); ok {
		return nil
	}
	msg := fmt.Sprintf("%s: unknown finding id %q", field, id)
	if near := closestID(id); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return errors.New(msg + "; `tlsscope rules` lists them")
}

// closestID is the defined id nearest to id by edit distance, "" when
// none is within a third of its length.
func closestID(id string) string {
	best, bestD := "", len(id)/3+1
	for _, d := range rules.Definitions() {
		if n := editDistance(id, d.ID); n < bestD {
			best, bestD = d.ID, n
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // ids are short; a long one matches nothing
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *Policy) check() error {
	if p.Version > 1 {
		return fmt.Errorf("version %d is newer than this tlsscope understands (1)", p.Version)
	}
	if p.MinVersion != "" {
		v, ok := parseVersion(p.MinVersion)
		if !ok {
			return at("$.min_version", fmt.Errorf("min_version: unknown version %q (want e.g. \"TLS 1.2\")", p.MinVersion))
		}
		p.minVersion = v
	}
	var err error
	if p.allowed, err = parseSuites("allowed_suites", p.AllowedSuites); err != nil {
		return at("$.allowed_suites", err)
	}
	if p.denied, err = parseSuites("denied_suites", p.DeniedSuites); err != nil {
		return at("$.denied_suites", err)
	}
	p.severity = map[string]facts.Severity{}
	for id, s := range p.Severity {
		if err := checkID("severity: "+id, id); err != nil {
			return at("$.severity."+id, err)
		}
		sev, ok := facts.ParseSeverity(s)
		if !ok {
			return at("$.severity."+id, fmt.Errorf("severity: %s: unknown severity %q (want info, low, medium, high or critical)", id, s))
		}
		p.severity[id] = sev
	}
	for _, g := range p.ExpectedSNIs {
		if _, err := path.Match(g, ""); err != nil {
			return at("$.expected_snis", fmt.Errorf("expected_snis: bad pattern %q", g))
		}
	}
	for i, pin := range p.Pins {
		if len(pin.SHA256) == 0 {
			return at(fmt.Sprintf("$.pins[%d]", i), fmt.Errorf("pins[%d]: sha256 is empty", i))
		}
		if err := checkServer(pin.Server); err != nil {
			return at(fmt.Sprintf("$.pins[%d].server", i), fmt.Errorf("pins[%d]: %w", i, err))
		}
		for j, h := range pin.SHA256 {
			h = normHex(h)
			if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
				return at(fmt.Sprintf("$.pins[%d].sha256[%d]", i, j), fmt.Errorf("pins[%d].sha256[%d]: want 64 hex digits", i, j))
			}
			p.Pins[i].SHA256[j] = h
		}
	}
	for i := range p.Suppress {
		s := &p.Suppress[i]
		entry := fmt.Sprintf("$.suppress[%d]", i)
		if strings.TrimSpace(s.Reason) == "" {
			return at(entry, fmt.Errorf("suppress[%d]: reason is required", i))
		}
		if s.ID == "" && s.SNI == "" && s.Server == "" && s.Fingerprint == "" {
			return at(entry, fmt.Errorf("suppress[%d]: set at least one of id, sni, server, fingerprint", i))
		}
		if s.ID != "" {
			if err := checkID(fmt.Sprintf("suppress[%d].id", i), s.ID); err != nil {
				return at(entry+".id", err)
			}
		}
		if err := checkServer(s.Server); err != nil {
			return at(entry+".server", fmt.Errorf("suppress[%d]: %w", i, err))
		}
		if s.SNI != "" {
			if _, err := path.Match(s.SNI, ""); err != nil {
				return at(entry+".sni", fmt.Errorf("suppress[%d]: bad sni pattern %q", i, s.SNI))
			}
		}
		if s.Expires != "" {
			t, err := parseDate(s.Expires)
			if err != nil {
				return at(entry+".expires", fmt.Errorf("suppress[%d]: expires: %q is not a date (YYYY-MM-DD)", i, s.Expires))
			}
			s.expires = t
		}
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil // through the end of that day (UTC)
	}
	return time.Parse(time.RFC3339, s)
}

func normHex(h string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(h))
}

func parseVersion(s string) (uint16, bool) {
	for v := uint16(0x0200); v <= 0x0304; v++ {
		if strings.EqualFold(tls.VersionName(v), s) || strings.EqualFold(strings.ReplaceAll(tls.VersionName(v), " ", ""), s) {
			return v, true
		}
		if v == 0x0200 {
			v = 0x02ff
		}
	}
	return 0, false
}

// suiteIDs maps IANA names to ids, built from decode/tls's table.
var suiteIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for id := 0; id <= 0xffff; id++ {
		if cs, ok := tls.LookupCipherSuite(uint16(id)); ok {
			m[cs.Name] = uint16(id)
		}
	}
	return m
}()

func parseSuites(key string, names []string) ([]uint16, error) {
	var ids []uint16
	for _, n := range names {
		if id, ok := suiteIDs[n]; ok {
			ids = append(ids, id)
			continue
		}
		if h, ok := strings.CutPrefix(strings.ToLower(n), "0x"); ok {
			if v, err := strconv.ParseUint(h, 16, 16); err == nil {
				ids = append(ids, uint16(v))
				continue
			}
		}
		return nil, fmt.Errorf("%s: unknown cipher suite %q (use the IANA name, e.g. TLS_AES_128_GCM_SHA256, or 0x1301)", key, n)
	}
	return ids, nil
}

func checkServer(s string) error {
	if s == "" {
		return nil
	}
	if _, err := netip.ParseAddrPort(s); err == nil {
		return nil
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return nil
	}
	return fmt.Errorf("server: %q is not an address, address:port or prefix", s)
}

func matchServer(pattern string, ap netip.AddrPort) bool {
	if pattern == "" {
		return true
	}
	if p, err := netip.ParseAddrPort(pattern); err == nil {
		return p == ap
	}
	if a, err := netip.ParseAddr(pattern); err == nil {
		return a == ap.Addr()
	}
	if pf, err := netip.ParsePrefix(pattern); err == nil {
		return pf.Contains(ap.Addr())
	}
	return false
}

func matchGlob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(s))
	return ok
}

// The finding ids the policy's own checks produce.
const (
	IDMinVersion    = "policy-min-version"
	IDDeniedSuite   = "policy-denied-suite"
	IDSuiteNotAllow = "policy-suite-not-allowed"
	IDUnexpectedSNI = "policy-unexpected-sni"
	IDPinMismatch   = "policy-cert-pin-mismatch"
)

// policyIDs are the policy's finding ids in the order Definitions lists them.
var policyIDs = []string{IDMinVersion, IDDeniedSuite, IDSuiteNotAllow, IDUnexpectedSNI, IDPinMismatch}

// Definitions describe the policy's finding ids, from decode/rules' one
// table of finding ids, where they are defined.
func Definitions() []rules.Definition {
	out := make([]rules.Definition, len(policyIDs))
	for i, id := range policyIDs {
		out[i] = definition(id)
	}
	return out
}

func definition(id string) rules.Definition {
	d, _ := rules.Lookup(id)
	return d
}

// Check judges one connection against the policy's expectations. Like the
// rules, it reads facts only.
func (p *Policy) Check(c *facts.Connection) []facts.Finding {
	s := c.TLS
	if s == nil {
		return nil
	}
	sni := c.SNI()
	var out []facts.Finding
	add := func(id, msg, evidence string) {
		d := definition(id)
		out = append(out, facts.Finding{
			ID: id, Severity: d.Severity, ConnID: c.ID, Capture: c.Capture, Time: c.First,
			Client: c.Client, Server: c.Server, SNI: sni, Message: msg, Evidence: evidence,
			Reference: "policy", Step: d.Step,
		})
	}
	if p.minVersion != 0 && s.Version != 0 && s.Version < p.minVersion {
		add(IDMinVersion, fmt.Sprintf("%s negotiated, policy minimum is %s", tls.VersionName(s.Version), tls.VersionName(p.minVersion)),
			fmt.Sprintf("version=0x%04x", s.Version))
	}
	if s.ServerHello != nil {
		if slices.Contains(p.denied, s.CipherSuite) {
			add(IDDeniedSuite, "cipher suite "+tls.CipherSuiteName(s.CipherSuite)+" is denied by policy",
				fmt.Sprintf("cipher_suite=0x%04x", s.CipherSuite))
		}
		if len(p.allowed) > 0 && !slices.Contains(p.allowed, s.CipherSuite) {
			add(IDSuiteNotAllow, "cipher suite "+tls.CipherSuiteName(s.CipherSuite)+" is not in the policy's allowed list",
				fmt.Sprintf("cipher_suite=0x%04x", s.CipherSuite))
		}
	}
	if len(p.ExpectedSNIs) > 0 && s.ClientHello != nil {
		ok := false
		for _, g := range p.ExpectedSNIs {
			if matchGlob(g, sni) {
				ok = true
				break
			}
		}
		if !ok {
			add(IDUnexpectedSNI, fmt.Sprintf("server name %q is not expected by policy", sni), "sni="+sni)
		}
	}
	if len(c.Certificates) > 0 {
		var chain []string
		for _, cert := range c.Certificates {
			chain = append(chain, cert.SHA256)
		}
		for _, pin := range p.Pins {
			if (pin.SNI != "" && !matchGlob(pin.SNI, sni)) || !matchServer(pin.Server, c.Server) {
				continue
			}
			found := false
			for _, h := range chain {
				found = found || slices.Contains(pin.SHA256, h)
			}
			if !found {
				add(IDPinMismatch, "server certificate chain matches none of its pins", "leaf sha256="+chain[0])
			}
		}
	}
	return out
}

// Applied is what Apply did.
type Applied struct {
	Kept       []facts.Finding
	Suppressed int
	// SuppressedIDs holds the id of each suppressed finding, in the
	// order of the findings given (an id once per finding).
	SuppressedIDs []string
	Expired       []Suppression // suppressions past their expiry date (ignored)
	Unused        []Suppression // suppressions that matched nothing
}

// Apply overrides severities and removes suppressed findings. now decides
// whether a suppression has expired; an expired suppression suppresses
// nothing and is reported so it can be renewed or removed.
func (p *Policy) Apply(fs []facts.Finding, now time.Time) Applied {
	var a Applied
	used := make([]bool, len(p.Suppress))
	expired := make([]bool, len(p.Suppress))
	for i, s := range p.Suppress {
		if !s.expires.IsZero() && !now.Before(s.expires) {
			expired[i] = true
			a.Expired = append(a.Expired, s)
		}
	}
	for _, f := range fs {
		if sev, ok := p.severity[f.ID]; ok {
			f.Severity = sev
		}
		hit := false
		for i, s := range p.Suppress {
			if !expired[i] && s.matches(f) {
				used[i], hit = true, true
			}
		}
		if hit {
			a.Suppressed++
			a.SuppressedIDs = append(a.SuppressedIDs, f.ID)
			continue
		}
		a.Kept = append(a.Kept, f)
	}
	for i, s := range p.Suppress {
		if !used[i] && !expired[i] {
			a.Unused = append(a.Unused, s)
		}
	}
	return a
}

// Describe names what a suppression matches ("id=cert-expired sni=x").
func (e Suppression) Describe() string {
	var parts []string
	for _, kv := range [][2]string{{"id", e.ID}, {"sni", e.SNI}, {"server", e.Server}, {"fingerprint", e.Fingerprint}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func (s *Suppression) matches(f facts.Finding) bool {
	return (s.ID == "" || s.ID == f.ID) &&
		matchGlob(s.SNI, f.SNI) &&
		(s.Server == "" || matchServer(s.Server, f.Server)) &&
		(s.Fingerprint == "" || s.Fingerprint == f.Fingerprint())
}

// Baseline returns a policy suppressing every finding of fs by its
// fingerprint, each with a reason saying where it was first seen (the
// first of fs with that fingerprint; report.Result.Findings gives them
// most severe first).
func Baseline(fs []facts.Finding, today time.Time) *Policy {
	p := &Policy{Version: 1}
	seen := map[string]bool{}
	for _, f := range fs {
		fp := f.Fingerprint()
		if seen[fp] {
			continue
		}
		seen[fp] = true
		p.Suppress = append(p.Suppress, Suppression{
			ID: f.ID, SNI: globLiteral(f.SNI), Server: facts.Endpoint(f.Server), Fingerprint: fp,
			Reason: fmt.Sprintf("baseline %s, seen in %s", today.Format(time.DateOnly), f.Capture),
		})
	}
	return p
}

// globLiteral is a glob (path.Match) that matches s and nothing else:
// an SNI from traffic may hold *, ? or [ (a baseline suppression of
// "*.example.com" seen as an SNI must not suppress every subdomain).
func globLiteral(s string) string {
	if !strings.ContainsAny(s, `*?[\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Marshal writes the policy as YAML with a header comment. Every string
// is written double-quoted, with JSON's escapes (YAML 1.2 reads them), so
// that any SNI or reason from traffic reads back as it was: "? k", NUL,
// CR, a leading "*" or "&" would otherwise be YAML syntax.
func (p *Policy) Marshal() ([]byte, error) {
	b, err := yaml.MarshalWithOptions(p, yaml.IndentSequence(true), yaml.CustomMarshaler[string](func(s string) ([]byte, error) { return json.Marshal(s) }))
	if err != nil {
		return nil, err
	}
	head := "# tlsscope policy (schema: tlsscope policy schema)\n"
	return append([]byte(head), b...), nil
}
