// Package tlsscope is the analysis pipeline of the tlsscope command, for Go
// programs: it reads captures (files or a live interface), reassembles the
// flows, rebuilds every TLS handshake and cleartext exchange, judges each
// connection once (the rules, then a policy, then the --ja4/--sni style
// selection) and hands the results to the caller.
//
// Two ways in:
//
//   - AnalyzeFile (and AnalyzeFiles) read whole captures and return a
//     Result: per capture its connections with their findings, its
//     anomalies and its counters, as the NDJSON contract of the README
//     describes them.
//   - Run reads any Source (a capture file from OpenFile, a live interface
//     from capture/live, or anything with Next and Close) and hands each
//     connection to a Sink as it closes, keeping nothing of it; live
//     capture and huge files go this way.
//
// The stages it joins are the packages below it: capture (packets),
// capture/filter (tcpdump expressions), decode (flows, reassembly, TLS and
// cleartext parsers, fingerprints), decode/rules (findings), decode/policy
// (site policy) and report (formats). The command's outputs are report's
// formats written from a Result.
//
// An Analyzer may be used for any number of inputs, one at a time.
package tlsscope

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/decode/policy"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/pathcause"
	"github.com/tlsscope/tlsscope/report"
)

// Config says what an Analyzer does. The zero Config is usable: no
// filter, the system roots, certificates judged at each connection's
// capture time, no policy, every connection kept, one worker per CPU (at
// most MaxDefaultWorkers) and decode's default limits.
type Config struct {
	// Filter is a tcpdump filter expression ("" keeps every packet).
	Filter string

	// CAFiles are PEM bundles of trusted CA certificates, used beside the
	// system roots (unless NoSystemRoots).
	CAFiles       []string
	Roots         []*x509.Certificate // more trust anchors, for a program that has them parsed
	NoSystemRoots bool
	// CheckTime is when certificate validity is judged: "" or "capture"
	// (each connection's own capture time), "now" (Now), or an RFC 3339
	// time.
	CheckTime string
	// ExpiryWarn is cert-expiring-soon's window (0: 30 days; negative
	// turns the rule off).
	ExpiryWarn time.Duration
	// Now is the wall clock for CheckTime "now" and for policy
	// suppressions' expiry dates (nil: the time New ran).
	Now func() time.Time

	// Policy, when set, adds its findings, overrides severities and
	// suppresses findings (see decode/policy).
	Policy *policy.Policy

	// JA4 keeps only the connections whose JA4 starts with it, SNI only
	// those whose SNI matches it (a path.Match glob, case-insensitive);
	// "" keeps all.
	JA4, SNI string

	// ShowSecrets keeps cleartext secrets' values in the facts (they are
	// masked otherwise, and every format prints the masked form).
	ShowSecrets bool

	// KeyLogFiles are NSS key log files (the SSLKEYLOGFILE format, RFC
	// 9850), read once by New: a TLS 1.3 connection whose
	// ClientHello.random has secrets in them is decrypted, so its
	// certificates, EncryptedExtensions and alerts are judged as TLS
	// 1.2's are, and every connection then says how decryption went
	// (tls.Session.Decryption). A file that cannot be read is a
	// *ConfigError (Field "KeyLogFiles") naming it; bad lines in one are
	// counted (KeyLogSources), never fatal. The environment's
	// SSLKEYLOGFILE is not read unless named here.
	KeyLogFiles []string
	// KeyLog is a key log the caller fills, used beside KeyLogFiles: one
	// still being written may be added to while a capture is read.
	KeyLog *keylog.Log
	// NoCaptureKeys ignores the Decryption Secrets Blocks a pcapng
	// capture carries (its own key log, which is otherwise used as
	// Wireshark uses it).
	NoCaptureKeys bool

	// Workers is the number of decoding goroutines for a Source read by
	// AnalyzeFile or Run (0: one per CPU, at most MaxDefaultWorkers; the
	// results are the same for any number). Live capture wants 1, so each
	// handshake is reported as its packet arrives.
	Workers int

	// Limits: MaxFlows flows tracked at once, MaxBufferedBytes of
	// out-of-order data per flow, IdleTimeout of capture time before a
	// silent flow is closed; 0 takes decode's defaults.
	MaxFlows         int
	MaxBufferedBytes int
	IdleTimeout      time.Duration

	// Shard and Shards analyse only shard Shard (0 <= Shard < Shards) of
	// the flows, by a hash of their endpoints (decode.InShard), reading
	// every packet: N runs with Shards N and Shard 0 .. N-1 over the
	// same capture together report each connection exactly once, with the
	// ids one run gives. Shards 0 or 1 is every flow. The summaries
	// record the shard.
	Shard, Shards int

	// MaxPackets stops a Source after that many packets have passed the
	// filter (0: no limit), as tcpdump's -c.
	MaxPackets int

	// Write, when set, is given every packet that passes Filter, before
	// it is analysed (-w: a copy of what was analysed); its error stops
	// the run, which returns it as a *SinkError.
	Write func(capture.Packet) error

	// Progress, when set, is called every ProgressEvery packets while a
	// Source is read, and once at its end with Done set.
	Progress func(Progress)
}

// MaxDefaultWorkers caps the default number of workers: past it, reading
// the file is the bottleneck.
const MaxDefaultWorkers = 8

// ProgressEvery is how many packets pass between Progress calls.
const ProgressEvery = decode.ProgressEvery

// Progress is how far reading a Source has got.
type Progress struct {
	Name        string
	Offset      int64 // bytes read, for a file (else 0)
	Size        int64 // the file's size when known (else 0)
	Connections int   // connections closed so far
	Done        bool  // the Source has ended
}

// ConfigError is a Config field that cannot be used; Field is the Go
// field's name.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Result is what a run produced: per capture its counters, connections,
// findings and anomalies (report's formats write it).
type Result = report.Result

// Capture is one input and what it held.
type Capture = report.Capture

// Analyzer runs the pipeline. It is not safe for concurrent use.
type Analyzer struct {
	cfg    Config
	filter *filter.Filter
	rules  *rules.Config
	now    time.Time
	keys   *keylog.Log // KeyLogFiles, read once
}

// New checks cfg (the filter parses, the CA files load, the check time
// reads) and returns an Analyzer for it. A *ConfigError names the field
// at fault; a bad filter is a *filter.Error inside it.
func New(cfg Config) (*Analyzer, error) {
	a := &Analyzer{cfg: cfg, now: time.Now()}
	if cfg.Now != nil {
		a.now = cfg.Now()
	}
	if cfg.Filter != "" {
		f, err := filter.Parse(cfg.Filter)
		if err != nil {
			return nil, &ConfigError{Field: "Filter", Err: err}
		}
		a.filter = f
	}
	for field, n := range map[string]int64{"MaxFlows": int64(cfg.MaxFlows), "MaxBufferedBytes": int64(cfg.MaxBufferedBytes), "IdleTimeout": int64(cfg.IdleTimeout), "MaxPackets": int64(cfg.MaxPackets)} {
		if n < 0 {
			return nil, &ConfigError{Field: field, Err: errors.New("cannot be negative")}
		}
	}
	if cfg.Shards < 0 || cfg.Shard < 0 || (cfg.Shards > 1 && cfg.Shard >= cfg.Shards) || (cfg.Shards <= 1 && cfg.Shard > 0) {
		return nil, &ConfigError{Field: "Shard", Err: fmt.Errorf("shard %d of %d: want 0 <= shard < shards", cfg.Shard, cfg.Shards)}
	}
	if cfg.SNI != "" {
		if _, err := path.Match(cfg.SNI, ""); err != nil {
			return nil, &ConfigError{Field: "SNI", Err: fmt.Errorf("bad pattern %q", cfg.SNI)}
		}
	}
	// The CA files are read before any work, so a bad one is reported
	// first.
	for _, f := range cfg.CAFiles {
		if _, err := os.Stat(f); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &ConfigError{Field: "CAFiles", Err: fmt.Errorf("reading %s: %v", f, err)}
		}
	}
	if len(cfg.KeyLogFiles) > 0 {
		a.keys = keylog.New()
		for _, f := range cfg.KeyLogFiles {
			if err := a.keys.ReadFile(f); err != nil {
				return nil, &ConfigError{Field: "KeyLogFiles", Err: fmt.Errorf("reading %s: %v", f, pathcause.Of(err))}
			}
		}
	}
	rc := rules.DefaultConfig()
	rc.UseSystemRoots = !cfg.NoSystemRoots
	rc.CAFiles = cfg.CAFiles
	rc.Roots = cfg.Roots
	if err := rc.SetCheckTime(cfg.CheckTime); err != nil {
		return nil, &ConfigError{Field: "CheckTime", Err: err}
	}
	now := a.now
	rc.Now = func() time.Time { return now }
	rc.ExpiryWarn = cfg.ExpiryWarn
	if err := rc.Load(); err != nil {
		return nil, &ConfigError{Field: "CAFiles", Err: err}
	}
	a.rules = rc
	return a, nil
}

// Filter is the compiled Config.Filter (nil when there is none), for a
// live Source that runs it in the kernel.
func (a *Analyzer) Filter() *filter.Filter { return a.filter }

// Rules describes every finding id the Analyzer can report (the rules',
// and the policy's when there is one), for formats that carry rule
// metadata such as SARIF.
func (a *Analyzer) Rules() []rules.Definition {
	var out []rules.Definition
	for _, d := range rules.Definitions() {
		if !d.Policy {
			out = append(out, d)
		}
	}
	if a.cfg.Policy != nil {
		out = append(out, policy.Definitions()...)
	}
	return out
}

// ExpiredSuppressions lists the policy's suppressions whose expiry date
// has passed (they no longer suppress anything).
func (a *Analyzer) ExpiredSuppressions() []policy.Suppression {
	if a.cfg.Policy == nil {
		return nil
	}
	return a.cfg.Policy.Apply(nil, a.now).Expired
}

// Warnings are what the user of a run should hear besides its results:
// each policy suppression past its expiry date, each capture cut short
// inside a packet (analysed up to there, as tcpdump and tshark say), and
// each key log file with lines that could not be read or none of whose
// client randoms matched a connection (the wrong file, or a capture of
// other connections).
func (a *Analyzer) Warnings(r *Result) []string {
	var w []string
	for _, e := range a.ExpiredSuppressions() {
		w = append(w, fmt.Sprintf("%s: suppression of %s expired on %s (reason: %s)", cmp.Or(a.cfg.Policy.File, "policy"), e.Describe(), e.Expires, e.Reason))
	}
	for _, c := range r.Captures {
		if c.Stats.Anomalies[capture.AnomalyTruncated] > 0 {
			w = append(w, fmt.Sprintf("%s is cut short in the middle of a packet; analysed up to there (%d packets)", c.Name, c.Stats.Packets))
		}
	}
	for _, s := range a.KeyLogSources() {
		if s.Bad > 0 {
			w = append(w, fmt.Sprintf("key log %s: %d of %d lines not read (first: %s)", s.Name, s.Bad, s.Lines, s.FirstBad))
		}
		if s.Matched == 0 {
			w = append(w, fmt.Sprintf("key log %s: none of its %d client randoms matched a connection in the capture", s.Name, s.Randoms))
		}
	}
	return w
}

// KeyLogSources says what each key log given (KeyLogFiles, then KeyLog)
// held, and how many of its client randoms a connection matched so far:
// a source that matched none after a run is likely the wrong file (the
// command warns about it). Decryption Secrets Blocks of the captures are
// not listed.
func (a *Analyzer) KeyLogSources() []keylog.Source {
	var out []keylog.Source
	for _, l := range []*keylog.Log{a.keys, a.cfg.KeyLog} {
		if l != nil {
			out = append(out, l.Sources()...)
		}
	}
	return out
}

// keyLogs is the key log of one input: its own Decryption Secrets Blocks
// (dsb, filled as they are read), then the given ones. nil when there is
// no key log at all and the input cannot carry one.
func (a *Analyzer) keyLogs(dsb *keylog.Log) keylog.Logs {
	var ls keylog.Logs
	for _, l := range []*keylog.Log{dsb, a.keys, a.cfg.KeyLog} {
		if l != nil {
			ls = append(ls, l)
		}
	}
	return ls
}

// selected reports whether Config.JA4 and Config.SNI keep a connection.
func (a *Analyzer) selected(c *facts.Connection) bool {
	if a.cfg.JA4 != "" && !strings.HasPrefix(c.Fingerprints.JA4, a.cfg.JA4) {
		return false
	}
	if a.cfg.SNI != "" {
		ok, _ := path.Match(strings.ToLower(a.cfg.SNI), strings.ToLower(c.SNI()))
		return ok
	}
	return true
}

// Judge is the one place a connection is judged: the rules, then the
// policy's checks, overrides and suppressions, most severe first (the
// order every format lists them in). It records the ids of the findings
// the policy suppressed in c.Suppressed, which the summaries count. It is
// safe for concurrent use on distinct connections.
func (a *Analyzer) Judge(c *facts.Connection) []facts.Finding {
	fs := rules.Evaluate(c, a.rules)
	c.Suppressed = nil
	if p := a.cfg.Policy; p != nil {
		applied := p.Apply(append(fs, p.Check(c)...), a.now)
		fs, c.Suppressed = applied.Kept, applied.SuppressedIDs
	}
	report.SortFindings(fs)
	return fs
}

// newResult starts a Result with the tool's name, version and rules.
func (a *Analyzer) newResult() *Result {
	return &Result{Tool: "tlsscope", Version: Version(), Rules: a.Rules()}
}

// workers is Config.Workers with its default.
func (a *Analyzer) workers() int {
	if n := a.cfg.Workers; n > 0 {
		return n
	}
	return min(runtime.GOMAXPROCS(0), MaxDefaultWorkers)
}

func (a *Analyzer) decodeConfig(keys keylog.Logs) decode.Config {
	c := decode.Config{
		MaxFlows:         a.cfg.MaxFlows,
		MaxBufferedBytes: a.cfg.MaxBufferedBytes,
		IdleTimeout:      a.cfg.IdleTimeout,
		ShowSecrets:      a.cfg.ShowSecrets,
		UDP:              decode.UDPByContent, // QUIC and DTLS flows, recognised by content; other UDP is declined
		Shard:            facts.Shard{K: a.cfg.Shard, N: a.cfg.Shards},
	}
	if len(keys) > 0 {
		c.Keys = keys
	}
	return c
}

// version is set at link time: go build -ldflags "-X
// github.com/tlsscope/tlsscope.version=v1.2.3".
var version string

// Version is the program's version: the one set at link time, else the
// module version Go recorded in the binary ("(devel)" for a plain go
// build) followed by the VCS revision, its date and "dirty" when the tree
// had changes.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " dirty"
			}
		}
	}
	if rev != "" {
		v += " (" + rev + " " + at + dirty + ")"
	}
	return v
}
