package decode

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// Source is what Read reads packets from: a capture.File, a live
// interface. Next returns io.EOF at the end.
type Source interface {
	Next() (capture.Packet, error)
}

// ReadOptions shape Read's loop. The zero value reads everything.
type ReadOptions struct {
	Filter     *filter.Filter             // packets it rejects are counted in Stats.Filtered, not decoded
	MaxPackets int                        // stop after this many packets passed the filter (0: no limit)
	Write      func(capture.Packet) error // given each packet that passed the filter, before decoding
	Progress   func(read int)             // called every ProgressEvery packets read
	Abort      func() error               // checked after each packet: an error stops the loop and is returned
	Name       string                     // the input's name, for the reader's anomalies
	// Secrets, when set, takes a capture.File's pcapng Decryption
	// Secrets Blocks as reading reaches them, before the packets after
	// them are decoded (on Read's goroutine).
	Secrets func(capture.Secrets)
}

// ProgressEvery is how many packets Read reads between Progress calls.
const ProgressEvery = 4096

// Read is the one packet loop: it reads src to its end (or until ctx is
// done: a Next that fails then is the end, not an error), runs the
// filter, and hands each packet to e, then flushes e. A capture.File's
// own anomalies (a record cut short, time going backwards) go through
// e.Note, so they are counted and ordered with e's for any number of
// Parallel workers. It returns e's counters with the filtered packets
// added, or the first error of src (other than io.EOF), opt.Write or
// opt.Abort.
func Read(ctx context.Context, src Source, e Engine, opt ReadOptions) (facts.Stats, error) {
	if f, ok := src.(*capture.File); ok {
		f.OnAnomaly = func(an capture.Anomaly) {
			e.Note(facts.Anomaly{Kind: an.Kind, Offset: an.Offset, Detail: an.Detail, Capture: opt.Name})
		}
		f.OnSecrets = opt.Secrets
	}
	var filtered uint64
	var err error
	var linkTypes []layers.LinkType // link types the filter was checked against
	for n, passed := 1, 0; opt.MaxPackets == 0 || passed < opt.MaxPackets; n++ {
		var p capture.Packet
		if p, err = src.Next(); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				err = nil
			}
			break
		}
		if opt.Progress != nil && n%ProgressEvery == 0 {
			opt.Progress(n)
		}
		if opt.Filter != nil && !opt.Filter.MatchLength(p.LinkType, p.Data, p.Info.Length) {
			filtered++
			if !slices.Contains(linkTypes, p.LinkType) {
				// A filter that cannot apply to a link type matches none of
				// its packets: say so once.
				linkTypes = append(linkTypes, p.LinkType)
				if _, cerr := opt.Filter.Compile(p.LinkType, 0); cerr != nil {
					e.Note(facts.Anomaly{Kind: AnomalyFilterLinkType, Offset: -1, Time: p.Info.Timestamp, Capture: opt.Name,
						Detail: cerr.Error() + "; the packets of that link type are all filtered out"})
				}
			}
			continue
		}
		if opt.Write != nil {
			if err = opt.Write(p); err != nil {
				break
			}
		}
		e.Packet(p)
		passed++
		if opt.Abort != nil {
			if err = opt.Abort(); err != nil {
				break
			}
		}
	}
	e.Flush()
	st := e.Stats()
	st.Filtered += filtered
	return st, err
}

// AnomalyFilterLinkType names a link type the capture filter cannot be
// applied to (capture/filter compiles for fewer link types than decode
// reads): every packet of it is filtered out.
const AnomalyFilterLinkType = "filter_unsupported_linktype"

// ReadFile reads a capture file through one Analyzer with cfg and h,
// naming the input name: what a test of a later stage needs to turn a
// capture into connection facts. The pipeline (package tlsscope) reads
// files the same way, through Read.
func ReadFile(path, name string, cfg Config, h Handler) (facts.Stats, error) {
	f, err := capture.Open(path)
	if err != nil {
		return facts.Stats{}, err
	}
	defer f.Close()
	a := New(cfg, h)
	a.SetCapture(name)
	return Read(context.Background(), f, a, ReadOptions{Name: name})
}

// ReadConnections reads a capture file (ReadFile, default limits) and
// returns copies of its connections in the order they closed.
func ReadConnections(path, name string) ([]*facts.Connection, error) {
	var conns []*facts.Connection
	_, err := ReadFile(path, name, Config{}, Handler{Connection: func(c *facts.Connection) {
		cp := *c // valid only during the call; what it points to is not reused
		conns = append(conns, &cp)
	}})
	return conns, err
}
