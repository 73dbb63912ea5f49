// Package rules judges connections: each rule reads facts.Connection (and
// its tls.Session) and returns findings with a stable id, a severity, a
// message, the evidence and a reference. Rules never read bytes and never
// call the clock: the check time is the capture's, or one the caller
// supplies. The finding ids, their default severities and help live in
// one table (Definitions).
//
// Certificate rules run where the chain is in the clear (TLS 1.2 and
// older); in TLS 1.3 the certificate is encrypted and nothing is guessed.
//
// Decisions worth knowing:
//   - Trust anchors are the machine's store (UseSystemRoots) and the CA
//     files; no root set is embedded, so a verdict matches what the
//     machine trusts. Tests never use the system store: they pass CA
//     files. With no anchors at all, cert-untrusted is not reported
//     (there is nothing to judge against); the other rules still run.
//   - A chain that fails only because of dates (it verifies at a moment
//     all sent certificates are valid) gives cert-expired or
//     cert-not-yet-valid, not cert-untrusted as well.
//   - cert-hostname-mismatch checks the SNI; without SNI the client asked
//     for no name and nothing is flagged (missing-sni says so).
//   - cert-self-signed is not reported when the certificate is itself a
//     trusted anchor (the user pinned it with --ca-file).
//   - cert-validity-too-long applies to leaves issued on or after
//     2020-09-01, when the 398-day limit took effect.
//   - crypto/x509 cannot parse EC keys on curves it does not implement
//     (below P-224, secp256k1, brainpool) nor explicit-parameter curves:
//     decode/certs/lenient reads such certificates without a usable key,
//     so cert-weak-key sees their size and cert-explicit-curve the
//     explicit parameters; nothing they signed verifies, so the CurveBall
//     chain is judged untrusted.
package rules

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// TimeMode says which moment certificates are judged at.
type TimeMode uint8

const (
	// CaptureTime judges each connection at its own handshake time (the
	// default): a capture gives the same findings whenever it is read.
	CaptureTime TimeMode = iota
	// NowTime judges at Config.Now() (the CLI supplies the clock).
	NowTime
	// FixedTime judges at Config.At.
	FixedTime
)

// DefaultExpiryWarn is how far ahead cert-expiring-soon looks.
const DefaultExpiryWarn = 30 * 24 * time.Hour

// Config is what the rules need from the user. The zero value judges at
// capture time with no trust anchors (cert-untrusted is then not
// reported); DefaultConfig trusts the system store.
type Config struct {
	// CAFiles are PEM bundles whose certificates are all trust anchors
	// (as crypto/x509 treats a root pool), added to Roots and the system
	// store.
	CAFiles []string
	// Roots are extra trust anchors.
	Roots []*x509.Certificate
	// UseSystemRoots adds the machine's store (x509.SystemCertPool). On a
	// machine without one (some CI images) nothing is trusted from it.
	UseSystemRoots bool

	CheckTime TimeMode
	Now       func() time.Time // NowTime
	At        time.Time        // FixedTime

	// ExpiryWarn is cert-expiring-soon's window: 0 means
	// DefaultExpiryWarn, negative turns the rule off.
	ExpiryWarn time.Duration

	// Severity overrides a finding id's severity (policy files).
	Severity map[string]facts.Severity

	once    sync.Once
	pool    *x509.CertPool // nil: no anchors
	loadErr error
	cache   verdictCache
	hosts   hostCache
}

// DefaultConfig trusts the system store and judges at capture time.
func DefaultConfig() *Config {
	return &Config{UseSystemRoots: true}
}

// SetCheckTime reads the --check-time flag: "capture" (default), "now",
// or an RFC 3339 time.
func (c *Config) SetCheckTime(s string) error {
	switch s {
	case "", "capture":
		c.CheckTime = CaptureTime
	case "now":
		c.CheckTime = NowTime
	default:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("%q is not now, capture or an RFC 3339 time (e.g. 2026-01-31T00:00:00Z)", s)
		}
		c.CheckTime, c.At = FixedTime, t
	}
	return nil
}

// Load reads the CA files and the system store once. Evaluate calls it;
// call it first to report a bad --ca-file before any work. A failed Load
// leaves no trust anchors, so cert-untrusted is not reported.
func (c *Config) Load() error {
	c.once.Do(func() {
		var pool *x509.CertPool
		if c.UseSystemRoots {
			// A store that fails to load is reported; the CA files
			// still count.
			if sys, err := x509.SystemCertPool(); err != nil {
				c.loadErr = fmt.Errorf("loading the system root store: %w", err)
			} else {
				pool = sys.Clone()
			}
		}
		if len(c.Roots) > 0 && pool == nil {
			pool = x509.NewCertPool()
		}
		for _, x := range c.Roots {
			pool.AddCert(x)
		}
		for _, f := range c.CAFiles {
			cs, err := certs.LoadCAFile(f)
			if err != nil {
				c.loadErr = err
				c.pool = nil
				return
			}
			if pool == nil {
				pool = x509.NewCertPool()
			}
			for _, x := range cs {
				pool.AddCert(x)
			}
		}
		c.pool = pool
	})
	return c.loadErr
}

func (c *Config) severity(id string, s facts.Severity) facts.Severity {
	if o, ok := c.Severity[id]; ok {
		return o
	}
	return s
}

// checkTime is the moment a connection's certificates are judged at.
func (c *Config) checkTime(conn *facts.Connection) (time.Time, string) {
	switch c.CheckTime {
	case NowTime:
		if c.Now != nil {
			return c.Now().UTC(), "now"
		}
	case FixedTime:
		return c.At.UTC(), "check time"
	}
	return handshakeTime(conn).UTC(), "capture time"
}

// handshakeTime is when the connection's handshake happened on the wire.
func handshakeTime(c *facts.Connection) time.Time {
	if s := c.TLS; s != nil {
		if !s.ServerHelloAt.IsZero() {
			return s.ServerHelloAt
		}
		if !s.Start.IsZero() {
			return s.Start
		}
	}
	return c.First
}

// Evaluate runs every rule on one connection and returns its findings,
// sorted by severity (highest first), then id, then time. A nil cfg is
// DefaultConfig. Evaluate is safe for concurrent use with one Config.
func Evaluate(c *facts.Connection, cfg *Config) []facts.Finding {
	if c == nil {
		return nil
	}
	if cfg == nil {
		cfg = defaultConfig()
	}
	_ = cfg.Load()
	e := &eval{c: c, cfg: cfg}
	if c.TLS != nil {
		e.tlsRules()
		e.certRules()
	}
	e.secretRules()
	slices.SortStableFunc(e.out, func(a, b facts.Finding) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		if a.ID != b.ID {
			return strings.Compare(a.ID, b.ID)
		}
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Evidence, b.Evidence)
	})
	return e.out
}

var (
	defaultOnce sync.Once
	defaultCfg  *Config
)

func defaultConfig() *Config {
	defaultOnce.Do(func() { defaultCfg = DefaultConfig() })
	return defaultCfg
}

// eval collects one connection's findings.
type eval struct {
	c   *facts.Connection
	cfg *Config
	out []facts.Finding
}

// add appends a finding with the definition's severity (or sev when
// given), reference (or ref when given) and step, after the user's
// override.
func (e *eval) add(id string, sev *facts.Severity, at time.Time, ref, msg, evidence string) {
	e.addStep(facts.StepNone, id, sev, at, ref, msg, evidence)
}

// addStep is add tied to another step than the definition's (when step
// is not StepNone).
func (e *eval) addStep(step facts.Step, id string, sev *facts.Severity, at time.Time, ref, msg, evidence string) {
	d, ok := byID[id]
	if !ok { // a secret kind the table does not know yet
		d = Definition{ID: id, Severity: facts.Medium}
	}
	if step == facts.StepNone {
		step = d.Step
	}
	s := d.Severity
	if sev != nil {
		s = *sev
	}
	if ref == "" {
		ref = d.Reference
	}
	f := facts.Finding{
		ID:        id,
		Severity:  e.cfg.severity(id, s),
		ConnID:    e.c.ID,
		Capture:   e.c.Capture,
		Time:      at,
		Client:    e.c.Client,
		Server:    e.c.Server,
		Message:   msg,
		Evidence:  evidence,
		Reference: ref,
		Step:      step,
	}
	if e.c.TLS != nil && e.c.TLS.ClientHello != nil {
		f.SNI = e.c.TLS.ClientHello.ServerName
	}
	e.out = append(e.out, f)
}

func sevp(s facts.Severity) *facts.Severity { return &s }

func sortDefinitions(ds []Definition) {
	sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}
