package main

import (
	_ "embed"
	"errors"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/internal/units"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/report"
)

// usageText is --help: every flag, with worked examples.
//
//go:embed usage.txt
var usageText string

// config is the parsed command line.
type config struct {
	tlsscope.Config // the pipeline's settings, bound to their flags
	// keepAll keeps every file's whole facts until the end even when the
	// outputs could stream (no flag: tests compare both paths).
	keepAll bool

	inputs     []string
	outputs    report.Plan
	outputFile string
	outputDir  string
	quiet      bool
	width      int
	failOn     facts.Severity
	failOnSet  bool
	policy     string
	force      bool   // baseline --force: replace -o FILE instead of merging into it
	ladder     string // --ladder: connections to draw instead of the table
	cpuprofile string
	memprofile string
	version    bool
	help       bool

	iface      string
	listIfaces bool
	snaplen    int
	noPromisc  bool
	duration   time.Duration
	writeFile  string
	user       string
	rotate     report.Rotate // --rotate: the live file output rotates
}

type flagValues struct {
	formats []string
	failOn  string
	shard   string
}

func newFlagSet(cfg *config, fv *flagValues, baseline bool) *pflag.FlagSet {
	fs := pflag.NewFlagSet("tlsscope", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {}
	fs.StringArrayVarP(&cfg.inputs, "read", "r", nil, "")
	fs.StringVarP(&cfg.Filter, "filter", "f", "", "")
	fs.StringVar(&cfg.JA4, "ja4", "", "")
	fs.StringVar(&cfg.SNI, "sni", "", "")
	fs.StringVar(&cfg.ladder, "ladder", "", "")
	fs.Lookup("ladder").NoOptDefVal = "*" // --ladder alone: every connection
	fs.IntVarP(&cfg.MaxPackets, "count", "c", 0, "")
	fs.StringVarP(&cfg.writeFile, "write", "w", "", "")
	fs.BoolP("numeric", "n", false, "") // tcpdump habits: no-ops
	fs.BoolP("verbose", "v", false, "")
	fs.StringVarP(&cfg.outputFile, "output", "o", "", "")
	fs.BoolVarP(&cfg.quiet, "quiet", "q", false, "")
	fs.StringArrayVar(&cfg.CAFiles, "ca-file", nil, "")
	fs.StringArrayVar(&cfg.KeyLogFiles, "keylog", nil, "")
	fs.StringVar(&cfg.CheckTime, "check-time", "capture", "")
	cfg.ExpiryWarn = 30 * 24 * time.Hour
	fs.Var(units.DurationFlag{P: &cfg.ExpiryWarn}, "expiry-warn", "")
	fs.IntVar(&cfg.MaxFlows, "max-flows", 0, "")
	fs.IntVar(&cfg.Workers, "workers", 0, "")
	fs.StringVar(&fv.shard, "shard", "", "")
	fs.Var(units.SizeFlag{P: &cfg.MaxBufferedBytes}, "max-buffer", "")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "")
	fs.BoolVarP(&cfg.help, "help", "h", false, "")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "")
	fs.StringVar(&cfg.memprofile, "memprofile", "", "")
	fs.StringVar(&cfg.policy, "policy", "", "")
	if baseline {
		fs.BoolVar(&cfg.force, "force", false, "")
		return fs
	}
	fs.StringArrayVar(&fv.formats, "format", nil, "")
	fs.StringVar(&cfg.outputDir, "output-dir", "", "")
	fs.IntVar(&cfg.width, "width", 0, "")
	fs.BoolVar(&cfg.ShowSecrets, "show-secrets", false, "")
	fs.StringVar(&fv.failOn, "fail-on", "", "")
	fs.BoolVar(&cfg.version, "version", false, "")
	fs.StringVarP(&cfg.iface, "interface", "i", "", "")
	fs.BoolVarP(&cfg.listIfaces, "list-interfaces", "D", false, "")
	fs.IntVarP(&cfg.snaplen, "snaplen", "s", 262144, "")
	fs.BoolVar(&cfg.noPromisc, "no-promisc", false, "")
	fs.DurationVar(&cfg.duration, "duration", 0, "")
	fs.StringVar(&cfg.user, "user", "", "")
	fs.Var(&cfg.rotate, "rotate", "")
	return fs
}

var badValue = regexp.MustCompile(`^invalid argument ".*" for "(-[a-z], )?(--[a-z-]+)" flag: (.*)$`)

// parseArgs reads the command line and rejects bad combinations before any
// work starts.
func parseArgs(args []string, baseline bool) (*config, error) {
	cfg := &config{}
	fv := &flagValues{}
	fs := newFlagSet(cfg, fv, baseline)
	if err := fs.Parse(args); err != nil {
		// pflag's `invalid argument "x" for "--flag" flag: why` as --flag: why.
		msg := strings.TrimSuffix(err.Error(), ".")
		ue := usagef("%s", badValue.ReplaceAllString(msg, "$2: $3"))
		if !badValue.MatchString(msg) {
			ue.hint = "run tlsscope --help for usage"
		}
		if strings.Contains(err.Error(), "'Y'") || strings.Contains(err.Error(), "-Y") {
			ue.hint = "-Y is a tshark display filter; tlsscope takes a tcpdump capture filter with -f (e.g. -f 'tcp port 443') and selects connections with --sni and --ja4"
		}
		return nil, ue
	}
	if cfg.help || cfg.version {
		return cfg, nil
	}
	cfg.inputs = append(cfg.inputs, fs.Args()...)

	if err := keylog.ResolveEnv(cfg.KeyLogFiles, os.Getenv); err != nil {
		return nil, usagef("--keylog env: %v", err).withHint("set it to the key log file, or give the file: --keylog FILE (a file called env: --keylog ./env)")
	}

	if fv.failOn != "" {
		s, ok := facts.ParseSeverity(strings.ToLower(fv.failOn))
		if !ok {
			return nil, usagef("--fail-on: unknown severity %q", fv.failOn).withHint("use one of info, low, medium, high, critical")
		}
		cfg.failOn, cfg.failOnSet = s, true
	}
	if fv.shard != "" {
		var err error
		if cfg.Shard, cfg.Shards, err = tlsscope.ParseShard(fv.shard); err != nil {
			return nil, usagef("--shard: %v", err).withHint("e.g. --shard 0/3, --shard 1/3 and --shard 2/3 in three runs")
		}
	}
	if err := cfg.parseOutputs(fv.formats, baseline); err != nil {
		return nil, err
	}

	live := cfg.iface != ""
	if cfg.listIfaces {
		if live || len(cfg.inputs) > 0 {
			return nil, usagef("-D lists interfaces; it takes no capture files or -i")
		}
		return cfg, nil
	}
	if live && len(cfg.inputs) > 0 {
		return nil, usagef("cannot read capture files and capture on -i %s at once", cfg.iface).withHint("run tlsscope twice, or capture to a file with -w and read it afterwards")
	}
	if !live && len(cfg.inputs) == 0 {
		return nil, usagef("no input").withHint("give capture files (tlsscope FILE... or -r FILE) or an interface (-i IFACE)")
	}
	if !live {
		for _, name := range []string{"no-promisc", "duration", "user", "snaplen", "rotate"} {
			if fs.Changed(name) {
				return nil, usagef("--%s applies to live capture only (-i IFACE)", name)
			}
		}
	}
	if live && (cfg.duration < 0 || cfg.snaplen <= 0) {
		return nil, usagef("--duration and --snaplen must be positive")
	}
	if err := cfg.outputs.CanRotate(cfg.rotate); err != nil {
		return nil, usagef("--rotate: %v", err)
	}
	if live && cfg.outputDir == "" {
		for _, o := range cfg.outputs {
			if o.Path == "" && !lookupFormat(o.Format).Live {
				return nil, usagef("live capture streams ndjson, ecs, zeek or table to standard output; --format %s needs a file", o.Format).withHint("e.g. --format %s=out.%s", o.Format, extension(o.Format))
			}
		}
	}
	return cfg, nil
}

// parseOutputs reads --format, -o and --output-dir (report.PlanOutputs).
func (cfg *config) parseOutputs(specs []string, baseline bool) error {
	if baseline {
		return nil
	}
	outs, err := report.PlanOutputs(specs, cfg.outputFile, cfg.outputDir)
	var oe *report.OutputError
	if errors.As(err, &oe) {
		return usagef("%s", oe.Msg).withHint("%s", oe.Hint)
	}
	cfg.outputs = outs
	return err
}
