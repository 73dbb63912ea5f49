package main

import (
	"github.com/tlsscope/tlsscope/internal/pathcause"

	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/policy"
	"github.com/tlsscope/tlsscope/internal/profile"
	"github.com/tlsscope/tlsscope/report"
)

// run is the whole program but the exit: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline" {
		return runBaseline(args[1:], stdout, stderr)
	}
	if code, ok := runInfo(args, stdout, stderr); ok {
		return code
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
		fmt.Fprintf(stdout, "tlsscope %s %s/%s %s\n", tlsscope.Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
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
	stop, err := profile.Start(cfg.cpuprofile, cfg.memprofile)
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	defer stop()
	if cfg.listIfaces {
		if err := live.WriteInterfaces(stdout); err != nil {
			return exitUsage, usagef("%v", err)
		}
		return exitOK, nil
	}
	var pcopy *capture.PcapngFile
	if cfg.writeFile != "" {
		if pcopy, err = capture.CreatePcapng(cfg.writeFile, cfg.snaplen); err != nil {
			return exitUsage, usagef("-w %s: %v", cfg.writeFile, pathcause.Of(err))
		}
		defer pcopy.Close()
	}
	an, err := newAnalyzer(cfg, stderr, pcopy)
	if err != nil {
		return exitUsage, err
	}
	if cfg.ShowSecrets && !cfg.quiet {
		warnf(stderr, "--show-secrets: cleartext secrets will be printed unmasked")
	}
	var r *report.Result
	switch {
	case cfg.iface != "":
		r, err = captureLive(an, cfg, stdout, stderr)
	default:
		var files []string
		if files, err = expandInputs(cfg.inputs); err != nil {
			if cfg.ladder == "*" {
				err.(*usageError).hint = "--ladder alone draws every connection; a query takes =: --ladder=QUERY"
			}
			return exitUsage, err
		}
		if streamsFiles(cfg) {
			r, err = streamFiles(an, cfg, files, stdout, stderr)
		} else {
			r, err = analyzeFiles(an, cfg, files, stderr)
		}
	}
	if err == nil && pcopy != nil {
		err = closeCopy(cfg, pcopy)
	}
	if err != nil {
		return exitUsage, err
	}
	if cfg.iface == "" && streamsFiles(cfg) || cfg.rotate.On() {
		return failOn(cfg, r, stderr), nil // every output was written as it went
	}
	if cfg.ladder != "" {
		if err := writeLadders(cfg, r, stdout); err != nil {
			return exitUsage, err
		}
		cfg.outputs = cfg.outputs.Files() // the ladder takes standard output's place
	}
	if err := writeOutputs(cfg, r, stdout, cfg.iface != ""); err != nil {
		return exitUsage, err
	}
	return failOn(cfg, r, stderr), nil
}

// failOn is exitFindings when --fail-on is set and a finding is at least
// that severe; it then says on standard error (unless -q) which findings
// crossed the threshold, so a CI log explains the red build.
func failOn(cfg *config, r *report.Result, stderr io.Writer) int {
	w, ok := r.Worst()
	if !ok || !cfg.failOnSet || w < cfg.failOn {
		return exitOK
	}
	if cfg.quiet {
		return exitFindings
	}
	fmt.Fprintf(stderr, "tlsscope: --fail-on %s: %s\n", cfg.failOn, r.Counts().AtLeastLine(cfg.failOn))
	return exitFindings
}

// warn prints the run's warnings (tlsscope.Analyzer.Warnings) unless -q.
func warn(an *tlsscope.Analyzer, cfg *config, r *report.Result, stderr io.Writer) {
	for _, w := range an.Warnings(r) {
		if !cfg.quiet {
			warnf(stderr, "%s", w)
		}
	}
}

// newAnalyzer turns the command line into a tlsscope.Config: the policy
// is read first, then the filter, CA files and check time, so each bad
// input is reported in the words of its flag.
func newAnalyzer(cfg *config, stderr io.Writer, pcopy *capture.PcapngFile) (*tlsscope.Analyzer, error) {
	tc := cfg.Config
	p := report.NewProgress(stderr, cfg.quiet)
	tc.Progress = func(r tlsscope.Progress) { p.Show(r.Name, r.Size, r.Offset, r.Connections, r.Done) }
	if pcopy != nil {
		tc.Write = func(p capture.Packet) error {
			if err := pcopy.Write(p); err != nil {
				return usagef("-w %s: %v", cfg.writeFile, err)
			}
			return nil
		}
	}
	if cfg.iface != "" {
		// One worker, so each handshake is printed as its packet arrives.
		tc.Workers = 1
	}
	if cfg.policy != "" {
		p, err := policy.Load(cfg.policy)
		if err != nil {
			return nil, usagef("%v", err).withHint("`tlsscope policy schema` prints the policy format (a JSON Schema)")
		}
		tc.Policy = p
	}
	an, err := tlsscope.New(tc)
	var ce *tlsscope.ConfigError
	if !errors.As(err, &ce) {
		return an, err
	}
	var fe *filter.Error
	if errors.As(err, &fe) {
		return nil, usagef("bad filter %q: %s (column %d)", cfg.Filter, fe.Msg, fe.Column).withHint("%s", fe.Hint)
	}
	if ce.Field == "Filter" {
		return nil, usagef("bad filter %q: %v", cfg.Filter, ce.Err)
	}
	// The fields' flags: CAFiles is --ca-file, CheckTime --check-time,
	// KeyLogFiles --keylog.
	flag := map[string]string{"CAFiles": "ca-file", "CheckTime": "check-time", "MaxFlows": "max-flows", "IdleTimeout": "idle-timeout", "MaxPackets": "count", "KeyLogFiles": "keylog"}[ce.Field]
	return nil, usagef("--%s: %v", cmp.Or(flag, strings.ToLower(ce.Field)), ce.Err)
}

// analyzeFiles reads every file whole.
func analyzeFiles(an *tlsscope.Analyzer, cfg *config, files []string, stderr io.Writer) (*report.Result, error) {
	ctx, stop := interruptible()
	defer stop()
	r, err := an.AnalyzeFiles(ctx, files...)
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	if err != nil {
		return nil, runError("", err)
	}
	warn(an, cfg, r, stderr)
	return r, nil
}

// streamsFiles: every output can be written a connection at a time and
// nothing needs the whole result at the end (no --ladder), so files are
// analysed keeping nothing of a connection once written; memory stays
// flat however large the capture.
func streamsFiles(cfg *config) bool {
	return !cfg.keepAll && cfg.ladder == "" && cfg.outputs.Incremental()
}

// streamFiles analyses files writing NDJSON as it goes
// (tlsscope.StreamFiles) to every output at once; files are written
// beside and renamed when the run succeeds, as writeFile does.
func streamFiles(an *tlsscope.Analyzer, cfg *config, files []string, stdout, stderr io.Writer) (*report.Result, error) {
	ctx, stop := interruptible()
	defer stop()
	outs, err := report.OpenOutputs(cfg.outputs, stdout, report.Perm(cfg.ShowSecrets))
	if err != nil {
		return nil, usagef("%v", err)
	}
	defer outs.Abort()
	bw := bufio.NewWriterSize(outs.All(), 64<<10)
	r, err := an.StreamFilesAs(ctx, bw, cfg.outputs[0].Format, reportOptions(cfg), files...)
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, runError("", err)
	}
	warn(an, cfg, r, stderr)
	if err := outs.Commit(); err != nil {
		return nil, usagef("%v", err)
	}
	return r, nil
}

// interruptible is a run's context: SIGINT or SIGTERM cancels it. A file
// run then stops and removes its output files (errInterrupted); a live
// capture ends normally, with its summary.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

var errInterrupted = usagef("interrupted before the end of the input: no output file was written")

// runError words an error of the pipeline: the sink's is a write error,
// a capture's "reading FILE: what is wrong", any other the input's (name,
// "" when the error names its input).
func runError(name string, err error) error {
	var ue *usageError
	var se *tlsscope.SinkError
	var ce *capture.Error
	switch {
	case errors.As(err, &ue):
		return ue
	case errors.As(err, &se):
		return usagef("writing ndjson: %v", se.Err)
	case errors.As(err, &ce):
		return usagef("reading %s: %s", ce.Path, strings.TrimPrefix(ce.Msg, "is "))
	case name == "":
		return usagef("%v", err)
	}
	return usagef("reading %s: %v", name, err)
}

// reportOptions: the table width is --width, else standard output's
// (report.Width: 0, no limit, when it is not a terminal); JUnit fails at the --fail-on severity, else at low (info
// findings are not failures).
func reportOptions(cfg *config) report.Options {
	o := report.Options{ShowSecrets: cfg.ShowSecrets, Width: report.Width(cfg.width, os.Stdout), FailOn: facts.Low}
	if cfg.failOnSet {
		o.FailOn = cfg.failOn
	}
	return o
}

// writeOutputs writes every requested format; files are written whole or
// not at all (written beside and renamed).
func writeOutputs(cfg *config, r *report.Result, stdout io.Writer, streamed bool) error {
	opt := reportOptions(cfg)
	outs, err := report.OpenOutputs(cfg.outputs, stdout, report.Perm(cfg.ShowSecrets))
	if err != nil {
		return usagef("%v", err)
	}
	defer outs.Abort()
	for i, o := range cfg.outputs {
		if o.Path == "" && streamed {
			continue // live capture printed its records as they came
		}
		o2 := opt
		if o.Path != "" {
			o2.Width = cfg.width // a file is not fitted to the terminal
		}
		if err := report.Write(outs.Writer(i), o.Format, r, o2); err != nil {
			if o.Path == "" {
				return fmt.Errorf("writing %s to standard output: %w", o.Format, err)
			}
			return usagef("writing %s: %v", o.Path, err)
		}
	}
	if err := outs.Commit(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

func closeCopy(cfg *config, f *capture.PcapngFile) error {
	if err := f.Close(); err != nil {
		return usagef("-w %s: %v", cfg.writeFile, err)
	}
	return nil
}
