//go:build linux

package live_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tlsscope/tlsscope/capture/live"
)

// Burst sent to each backend in BenchmarkBackends: burstPackets datagrams
// of burstSize bytes of UDP payload from burstSenders goroutines, as fast
// as the kernel takes them.
const (
	burstPackets = 200_000
	burstSize    = 1000
	burstSenders = 4
)

// burstResult is what one backend did with one burst.
type burstResult struct {
	sent, read       int
	stats            live.Stats
	readerCPU        time.Duration // user+sys of the thread running Next
	processCPU       time.Duration // user+sys of the whole process (senders too)
	sendTime, readTo time.Duration // until the last datagram was sent, read
}

func cpuTime(who int) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// burst captures one burst on lo with a port filter, reading every packet
// as the analyzer would (Next, then a look at the bytes).
func burst(b *testing.B, opts live.Options) burstResult {
	port := udpSink(b)
	opts.Filter = udpPortFilter(b, port)
	h, err := live.Open("lo", opts)
	if err != nil {
		b.Fatal(err)
	}
	var r burstResult
	type readerDone struct {
		n   int
		cpu time.Duration
		at  time.Time
	}
	started := make(chan struct{})
	done := make(chan readerDone, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := cpuTime(unix.RUSAGE_THREAD)
		close(started)
		n := 0
		var last time.Time
		for {
			p, err := h.Next()
			if err != nil {
				break
			}
			if _, ok := floodSeq(p.Data, port); ok {
				n++
				last = time.Now()
			}
		}
		done <- readerDone{n, cpuTime(unix.RUSAGE_THREAD) - cpu0, last}
	}()
	<-started
	cpu0 := cpuTime(unix.RUSAGE_SELF)
	start := time.Now()
	r.sent = flood(b, port, 0, burstPackets, burstSize, burstSenders)
	r.sendTime = time.Since(start)
	// Wait until the reader has what the kernel kept, or stops making
	// progress (the ring hands over its last block within ringBlockTimeout).
	for prev, still := -1, 0; still < 5; {
		time.Sleep(100 * time.Millisecond)
		st, _ := h.Stats()
		kept := int(st.Received - st.Dropped)
		if kept == prev {
			still++
		} else {
			prev, still = kept, 0
		}
		if st.Received >= uint64(r.sent) && still >= 2 {
			break
		}
	}
	r.stats, _ = h.Stats()
	h.Close()
	d := <-done
	r.processCPU = cpuTime(unix.RUSAGE_SELF) - cpu0
	r.read, r.readerCPU = d.n, d.cpu
	if !d.at.IsZero() {
		r.readTo = d.at.Sub(start)
	}
	return r
}

// benchConfigs are the captures BenchmarkBackends compares: the socket
// backend, the ring at its default size, and the ring at its smallest size
// (to tell the ring's mechanism from its larger buffer: the socket's is
// net.core.rmem_default, about 200 KiB).
var benchConfigs = []struct {
	name string
	opts live.Options
}{
	{"socket", live.Options{Backend: live.BackendSocket}},
	{"ring", live.Options{Backend: live.BackendRing}},
	{"ring1M", live.Options{Backend: live.BackendRing, RingSize: live.MinRingSize}},
}

// BenchmarkBackends sends the same burst over lo to each of benchConfigs
// (one after the other, the order rotating between iterations) and
// reports, per configuration, the share of the burst read and dropped by
// the kernel, and CPU (user+sys from getrusage) of the reader's thread per
// packet read and of the whole process per packet sent (senders included,
// since the kernel queues packets for the capture in the senders'
// context), then each ring's ratios to the socket backend. Root only.
//
//	go test -run '^$' -bench Backends -benchtime 3x -v ./capture/live
func BenchmarkBackends(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("live capture needs root")
	}
	type sum struct{ sent, read, dropped, readerNs, processNs float64 }
	sums := map[string]*sum{}
	for i := 0; b.Loop(); i++ {
		for k := range benchConfigs {
			c := benchConfigs[(i+k)%len(benchConfigs)]
			r := burst(b, c.opts)
			b.Logf("%-6s sent %d in %v, read %d (%.1f%%), kernel %+v, reader CPU %v, process CPU %v",
				c.name, r.sent, r.sendTime.Round(time.Millisecond), r.read, 100*float64(r.read)/float64(r.sent),
				r.stats, r.readerCPU.Round(time.Millisecond), r.processCPU.Round(time.Millisecond))
			s := sums[c.name]
			if s == nil {
				s = &sum{}
				sums[c.name] = s
			}
			s.sent += float64(r.sent)
			s.read += float64(r.read)
			s.dropped += float64(r.stats.Dropped)
			s.readerNs += float64(r.readerCPU.Nanoseconds())
			s.processNs += float64(r.processCPU.Nanoseconds())
		}
	}
	for name, s := range sums {
		b.ReportMetric(100*s.read/s.sent, name+"-read-%")
		b.ReportMetric(100*s.dropped/s.sent, name+"-dropped-%")
		b.ReportMetric(s.readerNs/s.read, name+"-reader-ns/pkt")
		b.ReportMetric(s.processNs/s.sent, name+"-process-ns/pkt")
	}
	so := sums["socket"]
	for _, name := range []string{"ring", "ring1M"} {
		ri := sums[name]
		b.ReportMetric((ri.read/ri.sent)/(so.read/so.sent), name+"/socket-read")
		b.ReportMetric((ri.readerNs/ri.read)/(so.readerNs/so.read), name+"/socket-reader-cpu")
		b.ReportMetric((ri.processNs/ri.sent)/(so.processNs/so.sent), name+"/socket-process-cpu")
		b.Logf("%s/socket: read %s, dropped %s, reader CPU per packet read %s, process CPU per packet sent %s",
			name, ratio(ri.read/ri.sent, so.read/so.sent), ratio(ri.dropped/ri.sent, so.dropped/so.sent),
			ratio(ri.readerNs/ri.read, so.readerNs/so.read), ratio(ri.processNs/ri.sent, so.processNs/so.sent))
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return fmt.Sprintf("%.3g vs 0", a)
	}
	return fmt.Sprintf("%.2fx", a/b)
}
