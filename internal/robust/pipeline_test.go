package robust

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/report"
)

// Caps on what one pipeline run keeps for the report, so that a flood
// measures the decoder's memory, not the test's.
const (
	keepConnections = 5000
	keepAnomalies   = 5000
)

// options shape one pipeline run.
type options struct {
	cfg decode.Config
	// sampleEvery, when > 0, samples the live heap (after a GC) every
	// sampleEvery packets and at the end.
	sampleEvery int
	// formats to render; nil means every report format.
	formats []string
}

// outcome is what a run produced.
type outcome struct {
	openErr  error // capture.Open / NewReader refused the input
	readErr  error // Next failed with something other than io.EOF
	writeErr error // a report format failed

	packets     int
	conns       int // Connection callbacks
	handshakes  int
	stats       facts.Stats
	captureAnom map[string]int // capture.File anomalies by kind
	findings    int
	result      *report.Result

	// Heap figures after a GC, sampled during the run (sampleEvery).
	peakInuse, peakAlloc uint64
	samples              int
}

// anomalies is every anomaly of the run, decode's and the capture
// reader's, by kind.
func (o *outcome) anomalies() map[string]uint64 {
	m := map[string]uint64{}
	for k, n := range o.stats.Anomalies {
		m[k] += n
	}
	for k, n := range o.captureAnom {
		m[k] += uint64(n)
	}
	return m
}

// runFile runs the whole pipeline on a capture file: capture.Open, decode,
// rules, every report format to io.Discard.
func runFile(path string, opt options) *outcome {
	f, err := capture.Open(path)
	if err != nil {
		return &outcome{openErr: err}
	}
	defer f.Close()
	return process(f, path, opt)
}

// runBytes is runFile over a capture held in memory (capture.NewReader).
func runBytes(data []byte, opt options) *outcome {
	f, err := capture.NewReader(bytes.NewReader(data), "fuzz.pcap")
	if err != nil {
		return &outcome{openErr: err}
	}
	defer f.Close()
	return process(f, "fuzz.pcap", opt)
}

func process(f *capture.File, name string, opt options) *outcome {
	o := &outcome{captureAnom: map[string]int{}}
	rc := &report.Capture{Name: name}
	evaluate := evaluator()
	f.OnAnomaly = func(an capture.Anomaly) {
		o.captureAnom[an.Kind]++
		if len(rc.Anomalies) < keepAnomalies {
			rc.Anomalies = append(rc.Anomalies, facts.Anomaly{Kind: an.Kind, Offset: an.Offset, Detail: an.Detail, Capture: name})
		}
	}
	a := decode.New(opt.cfg, decode.Handler{
		Handshake: func(c *facts.Connection) { o.handshakes++ },
		Connection: func(c *facts.Connection) {
			o.conns++
			if len(rc.Connections) >= keepConnections {
				return
			}
			cp := *c
			fs := evaluate(&cp)
			for _, fd := range fs {
				cp.FindingIDs = append(cp.FindingIDs, fd.ID)
			}
			o.findings += len(fs)
			rc.Findings = append(rc.Findings, fs...)
			rc.Connections = append(rc.Connections, &cp)
		},
		Secret: func(*facts.Connection, facts.Secret) {},
		HTTP:   func(*facts.Connection, facts.HTTPMessage) {},
		Anomaly: func(an facts.Anomaly) {
			if len(rc.Anomalies) < keepAnomalies {
				rc.Anomalies = append(rc.Anomalies, an)
			}
		},
	})
	a.SetCapture(name)
	for {
		p, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			o.readErr = err
			break
		}
		a.Packet(p)
		o.packets++
		if opt.sampleEvery > 0 && o.packets%opt.sampleEvery == 0 {
			o.sample()
		}
	}
	a.Flush()
	if opt.sampleEvery > 0 {
		o.sample()
	}
	o.stats = a.Stats()
	rc.Stats = o.stats
	o.result = &report.Result{Tool: "tlsscope", Version: "robust", Captures: []*report.Capture{rc}, Rules: ruleDescriptions()}
	formats := opt.formats
	if formats == nil {
		formats = report.FormatNames()
	}
	for _, format := range formats {
		if err := report.Write(io.Discard, format, o.result, report.Options{Width: 100}); err != nil {
			o.writeErr = fmt.Errorf("report %s: %w", format, err)
			break
		}
	}
	return o
}

// sample records the live heap after a collection.
func (o *outcome) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	o.peakInuse = max(o.peakInuse, ms.HeapInuse)
	o.peakAlloc = max(o.peakAlloc, ms.HeapAlloc)
	o.samples++
}

// hangLimit is how long one pipeline run may take before the test calls it
// a hang. It is a detector for loops that never end, far above any honest
// run's time (the largest input here takes well under a second), not a
// performance assertion.
const hangLimit = 2 * time.Minute

// finishes runs fn in a goroutine and fails the test if it does not return
// within hangLimit. A panic in fn is re-raised in the test with the input
// named.
func finishes[T any](t testing.TB, what string, fn func() T) T {
	t.Helper()
	type res struct {
		v     T
		panic any
		stack []byte
	}
	done := make(chan res, 1)
	go func() {
		var r res
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
				r.stack = make([]byte, 64<<10)
				r.stack = r.stack[:runtime.Stack(r.stack, false)]
			}
			done <- r
		}()
		r.v = fn()
	}()
	timer := time.NewTimer(hangLimit)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			t.Fatalf("%s: panic: %v\n%s", what, r.panic, r.stack)
		}
		return r.v
	case <-timer.C:
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s: did not finish within %v (hang)\n%s", what, hangLimit, buf)
	}
	var zero T
	return zero
}
