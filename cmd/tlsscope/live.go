package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tlsscope/tlsscope"

	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/report"
)

// captureLive captures on -i: the kernel runs the compiled -f filter,
// packets go through the same pipeline as files (stream), and -w keeps a
// copy.
func captureLive(an *tlsscope.Analyzer, cfg *config, stdout, stderr io.Writer) (*report.Result, error) {
	h, err := an.OpenInterface(cfg.iface, live.Options{Snaplen: cfg.snaplen, Promisc: !cfg.noPromisc})
	var ce *tlsscope.ConfigError
	if errors.As(err, &ce) {
		return nil, usagef("filter %q %v", cfg.Filter, ce.Err)
	}
	if err != nil {
		return nil, liveError(cfg.iface, err)
	}
	defer h.Close()
	if cfg.user != "" {
		if err := live.DropPrivileges(cfg.user); err != nil {
			return nil, usagef("--user %s: %v", cfg.user, err)
		}
	}
	if !cfg.quiet {
		fmt.Fprintf(stderr, "tlsscope: listening on %s, link-type %s, snapshot length %d bytes\n", cfg.iface, h.LinkType(), cfg.snaplen)
	}
	return stream(an, cfg, h, stdout, stderr)
}

// stream runs the pipeline over a source that may never end (a live
// interface; a file in the tests), printing each connection when its
// handshake completes or fails and each finding as it becomes known. It
// stops at the end of input, on SIGINT/SIGTERM, after --duration or after
// --count packets, then prints the summary. Unless a file output or
// --ladder needs the whole facts at the end, nothing of a closed
// connection is kept: the summary counts it.
func stream(an *tlsscope.Analyzer, cfg *config, src tlsscope.Source, stdout, stderr io.Writer) (*report.Result, error) {
	ctx, cancel := interruptible()
	defer cancel()
	if cfg.duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	w, format, closeOut, err := cfg.outputs.LiveWriter(stdout, cfg.rotate, report.Perm(cfg.ShowSecrets))
	if err != nil {
		return nil, usagef("%v", err)
	}
	defer closeOut()
	var out *report.Stream
	if format != "" {
		if out, err = report.NewStream(w, format, reportOptions(cfg)); err != nil {
			return nil, usagef("%v", err)
		}
	}
	r, err := an.StreamLive(ctx, src, out, len(cfg.outputs.Files()) > 0 && !cfg.rotate.On() || cfg.ladder != "")
	if err != nil {
		return nil, runError(src.Name(), err)
	}
	warn(an, cfg, r, stderr)
	if format != "" {
		out, _ := report.NewStream(w, format, report.Options{Width: reportOptions(cfg).Width})
		if err := out.Summary(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func liveError(iface string, err error) error {
	ue := usagef("capturing on %s: %v", iface, err)
	switch {
	case errors.Is(err, live.ErrPermission):
		ue.hint = "run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip $(which tlsscope)"
	case errors.Is(err, live.ErrNoInterface):
		ue.hint = "tlsscope -D lists the interfaces"
	}
	return ue
}
