package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
	"github.com/tlsscope/tlsscope/report/policy"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version string

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// run is the whole program but the exit: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline" {
		return runBaseline(args[1:], stdout, stderr)
	}
	cfg, err := parseArgs(args, false)
	if err != nil {
		reportError(stderr, err)
		return exitUsage
	}
	switch {
	case cfg.help:
		io.WriteString(stdout, usageText)
		return exitOK
	case cfg.version:
		fmt.Fprintf(stdout, "tlsscope %s %s/%s %s\n", versionString(), runtime.GOOS, runtime.GOARCH, runtime.Version())
		return exitOK
	}
	code, err := analyzeAndReport(cfg, stdout, stderr)
	if err != nil {
		reportError(stderr, err)
		return exitUsage
	}
	return code
}

func analyzeAndReport(cfg *config, stdout, stderr io.Writer) (int, error) {
	stop, err := startProfiles(cfg)
	if err != nil {
		return exitUsage, err
	}
	defer stop()
	if cfg.listIfaces {
		return exitOK, listInterfaces(stdout)
	}
	s, err := newSession(cfg, stderr)
	if err != nil {
		return exitUsage, err
	}
	if cfg.showSecrets && !cfg.quiet {
		warnf(stderr, "--show-secrets: cleartext secrets will be printed unmasked")
	}
	var r *report.Result
	if cfg.iface != "" {
		r, err = s.live(stdout)
	} else {
		var files []string
		if files, err = expandInputs(cfg.inputs); err != nil {
			return exitUsage, err
		}
		if streamsFiles(cfg) {
			if r, err = s.streamFiles(files, stdout); err != nil {
				return exitUsage, err
			}
			return failOn(cfg, r), nil
		}
		r, err = s.analyzeFiles(files)
	}
	if err != nil {
		return exitUsage, err
	}
	if cfg.ladder != "" {
		if err := writeLadders(cfg, r, stdout); err != nil {
			return exitUsage, err
		}
		cfg.outputs = fileOutputs(cfg.outputs) // the ladder takes standard output's place
	}
	if err := writeOutputs(cfg, r, stdout, cfg.iface != ""); err != nil {
		return exitUsage, err
	}
	return failOn(cfg, r), nil
}

// failOn is exitFindings when --fail-on is set and a finding is at least
// that severe.
func failOn(cfg *config, r *report.Result) int {
	if w, ok := r.Worst(); ok && cfg.failOnSet && w >= cfg.failOn {
		return exitFindings
	}
	return exitOK
}

// session is one run's shared state: the engine (filter, rules), the
// policy and the progress display.
type session struct {
	cfg    *config
	eng    *engine
	pol    *policy.Policy
	stderr io.Writer
	prog   *progress
	now    time.Time
}

func newSession(cfg *config, stderr io.Writer) (*session, error) {
	s := &session{cfg: cfg, stderr: stderr, prog: newProgress(stderr, cfg.quiet), now: time.Now()}
	if cfg.policy != "" {
		p, err := policy.Load(cfg.policy)
		if err != nil {
			return nil, usagef("%s", strings.TrimPrefix(err.Error(), "open ")).withHint("the policy format is described in report/policy/policy.schema.json")
		}
		s.pol = p
	}
	eng, err := newEngine(cfg, s.now)
	if err != nil {
		return nil, err
	}
	s.eng = eng
	return s, nil
}

func (s *session) analyzeFiles(files []string) (*report.Result, error) {
	r := &report.Result{Tool: "tlsscope", Version: versionString(), Rules: s.eng.rules.definitions()}
	if s.pol != nil {
		r.Rules = append(r.Rules, policy.Definitions()...)
	}
	for _, f := range files {
		c, err := s.eng.file(f, s.prog)
		if err != nil {
			return nil, err
		}
		r.Captures = append(r.Captures, c)
	}
	s.judge(r)
	return r, nil
}

// judge keeps the connections --ja4 and --sni select, adds the policy's
// findings and applies its overrides and suppressions.
func (s *session) judge(r *report.Result) {
	for _, c := range r.Captures {
		s.judgeCapture(c)
	}
	if s.pol != nil && !s.cfg.quiet {
		var all []facts.Finding
		for _, c := range r.Captures {
			all = append(all, c.Findings...)
		}
		a := s.pol.Apply(all, s.now)
		for _, e := range a.Expired {
			warnf(s.stderr, "%s: suppression of %s expired on %s (reason: %s)", s.cfg.policy, describeSuppression(e), e.Expires, e.Reason)
		}
	}
}

func describeSuppression(e policy.Suppression) string {
	var parts []string
	for _, kv := range [][2]string{{"id", e.ID}, {"sni", e.SNI}, {"server", e.Server}, {"fingerprint", e.Fingerprint}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func (s *session) keep(c *facts.Connection) bool {
	if s.cfg.ja4 != "" && !strings.HasPrefix(c.Fingerprints.JA4, s.cfg.ja4) {
		return false
	}
	if s.cfg.sni != "" {
		ok, _ := path.Match(strings.ToLower(s.cfg.sni), strings.ToLower(report.SNI(c)))
		return ok
	}
	return true
}

func (s *session) judgeCapture(c *report.Capture) {
	if s.cfg.ja4 != "" || s.cfg.sni != "" {
		kept := map[uint64]bool{}
		var conns []*facts.Connection
		for _, conn := range c.Connections {
			if s.keep(conn) {
				conns = append(conns, conn)
				kept[conn.ID] = true
			}
		}
		c.Connections = conns
		var fs []facts.Finding
		for _, f := range c.Findings {
			if kept[f.ConnID] {
				fs = append(fs, f)
			}
		}
		c.Findings = fs
		var as []facts.Anomaly
		for _, a := range c.Anomalies {
			if a.ConnID == 0 || kept[a.ConnID] {
				as = append(as, a)
			}
		}
		c.Anomalies = as
	}
	if s.pol != nil {
		for _, conn := range c.Connections {
			c.Findings = append(c.Findings, s.pol.Check(conn)...)
		}
		c.Findings = s.pol.Apply(c.Findings, s.now).Kept
	}
	report.SortFindings(c.Findings)
}

// writeOutputs writes every requested format; files are written whole or
// not at all (written beside and renamed).
func writeOutputs(cfg *config, r *report.Result, stdout io.Writer, streamed bool) error {
	opt := report.Options{ShowSecrets: cfg.showSecrets, Width: tableWidth(cfg), FailOn: junitFailOn(cfg)}
	for _, o := range cfg.outputs {
		if o.path == "" {
			if streamed {
				continue // live capture printed its records as they came
			}
			if err := writeFormat(stdout, o.format, r, opt); err != nil {
				return fmt.Errorf("writing %s to standard output: %w", o.format, err)
			}
			continue
		}
		if err := writeFile(o.path, func(w io.Writer) error { return writeFormat(w, o.format, r, opt) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, write func(io.Writer) error) error {
	o, err := createOutput(name)
	if err != nil {
		return err
	}
	if err := write(o.f); err != nil {
		o.abort()
		return usagef("writing %s: %v", name, err)
	}
	return o.commit()
}

// tableWidth: --width, else the terminal's width when standard output is
// one, else $COLUMNS, else 80.
func tableWidth(cfg *config) int {
	if cfg.width > 0 {
		return cfg.width
	}
	if n := terminalWidth(os.Stdout); n >= 40 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return report.DefaultWidth
}

// junitFailOn: the --fail-on severity, else low (info findings are not
// failures).
func junitFailOn(cfg *config) facts.Severity {
	if cfg.failOnSet {
		return cfg.failOn
	}
	return facts.Low
}

func startProfiles(cfg *config) (func(), error) {
	stop := func() {}
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return nil, usagef("--cpuprofile: %v", unwrapPathError(err))
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, usagef("--cpuprofile: %v", err)
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if cfg.memprofile != "" {
		f, err := os.Create(cfg.memprofile)
		if err != nil {
			return nil, usagef("--memprofile: %v", unwrapPathError(err))
		}
		prev := stop
		stop = func() {
			prev()
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	return stop, nil
}

var errNoLive = errors.New("live capture is not available in this build")

// fileOutputs drops the outputs bound for standard output.
func fileOutputs(outs []output) []output {
	var kept []output
	for _, o := range outs {
		if o.path != "" {
			kept = append(kept, o)
		}
	}
	return kept
}
