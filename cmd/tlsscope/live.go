package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/live"
	"github.com/tlsscope/tlsscope/report"
)

// live captures on -i: the kernel runs the compiled -f filter, packets go
// through the same engine as files (stream), and -w keeps a copy.
func (s *session) live(stdout io.Writer) (*report.Result, error) {
	cfg := s.cfg
	lt, err := live.LinkType(cfg.iface)
	if err != nil {
		return nil, liveError(cfg.iface, err)
	}
	opts := live.Options{Snaplen: cfg.snaplen, Promisc: !cfg.noPromisc}
	if s.eng.filter != nil {
		prog, err := s.eng.filter.Compile(lt, cfg.snaplen)
		if err != nil {
			return nil, usagef("filter %q on %s: %v", cfg.filter, cfg.iface, err)
		}
		opts.Filter = prog
	}
	h, err := live.Open(cfg.iface, opts)
	if err != nil {
		return nil, liveError(cfg.iface, err)
	}
	defer h.Close()
	if cfg.user != "" {
		if err := live.DropPrivileges(cfg.user); err != nil {
			return nil, usagef("--user %s: %v", cfg.user, err)
		}
	}
	var src packetSource = h
	if cfg.writeFile != "" {
		f, err := os.Create(cfg.writeFile)
		if err != nil {
			return nil, usagef("-w %s: %v", cfg.writeFile, unwrapPathError(err))
		}
		defer f.Close()
		w, err := capture.NewPcapngWriter(f, lt, cfg.snaplen)
		if err != nil {
			return nil, usagef("-w %s: %v", cfg.writeFile, err)
		}
		defer w.Flush()
		src = &teeSource{packetSource: h, w: w}
	}
	// The kernel's counters go into the summary printed at the end.
	r, err := s.finishStream(cfg.iface, src, stdout, func(c *report.Capture) {
		if st, err := h.Stats(); err == nil {
			c.Stats.KernelReceived = st.Received
			c.Stats.KernelDropped = st.Dropped
		}
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// teeSource writes every packet read to a capture file.
type teeSource struct {
	packetSource
	w *capture.PcapngWriter
}

func (t *teeSource) Next() (capture.Packet, error) {
	p, err := t.packetSource.Next()
	if err == nil {
		if werr := t.w.Write(p); werr != nil {
			return p, werr
		}
	}
	return p, err
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

// listInterfaces prints -D: index, name, state and addresses, like
// tcpdump -D.
func listInterfaces(w io.Writer) error {
	ifs, err := live.Interfaces()
	if err != nil {
		return usagef("listing interfaces: %v", err)
	}
	for _, i := range ifs {
		var flags []string
		if i.Up {
			flags = append(flags, "Up")
		}
		if i.Running {
			flags = append(flags, "Running")
		}
		if i.Loopback {
			flags = append(flags, "Loopback")
		}
		var addrs []string
		for _, a := range i.Addrs {
			addrs = append(addrs, a.String())
		}
		fmt.Fprintf(w, "%d.%s [%s]", i.Index, i.Name, strings.Join(flags, ", "))
		if len(addrs) > 0 {
			fmt.Fprintf(w, " %s", strings.Join(addrs, " "))
		}
		fmt.Fprintln(w)
	}
	return nil
}
