//go:build linux

package live_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
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

// The paced load of BenchmarkBackendsPaced: pacedPackets datagrams of
// burstSize bytes, pacedBatch every pacedTick (at most 20,000 a second,
// about twice the soak's rate), which every backend should keep up with,
// so CPU per packet compares like with like.
const (
	pacedPackets = 40_000
	pacedBatch   = 20
	pacedTick    = time.Millisecond
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

// sendLoad sends the burst, or the paced load, to port and returns how many
// datagrams the kernel accepted.
func sendLoad(b *testing.B, port uint16, paced bool) int {
	if !paced {
		return flood(b, port, 0, burstPackets, burstSize, burstSenders)
	}
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, burstSize)
	copy(buf, floodMagic)
	sent := 0
	tick := time.NewTicker(pacedTick)
	defer tick.Stop()
	for seq := 0; seq < pacedPackets; {
		for range pacedBatch {
			binary.BigEndian.PutUint32(buf[len(floodMagic):], uint32(seq))
			seq++
			if _, err := c.Write(buf); err == nil {
				sent++
			}
		}
		<-tick.C
	}
	return sent
}

// burst captures one burst on lo with a port filter, reading every packet
// as the analyzer would (Next, then a look at the bytes).
func burst(b *testing.B, opts live.Options, paced bool) burstResult {
	port := udpSink(b)
	var r burstResult
	if opts.Backend == "none" {
		cpu0 := cpuTime(unix.RUSAGE_SELF)
		start := time.Now()
		r.sent = sendLoad(b, port, paced)
		r.sendTime = time.Since(start)
		r.processCPU = cpuTime(unix.RUSAGE_SELF) - cpu0
		return r
	}
	opts.Filter = udpPortFilter(b, port)
	h, err := live.Open("lo", opts)
	if err != nil {
		b.Fatal(err)
	}
	type readerDone struct {
		n   int
		cpu time.Duration
		at  time.Time
	}
	var nread atomic.Int64
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
				nread.Add(1)
				last = time.Now()
			}
		}
		done <- readerDone{n, cpuTime(unix.RUSAGE_THREAD) - cpu0, last}
	}()
	<-started
	cpu0 := cpuTime(unix.RUSAGE_SELF)
	start := time.Now()
	r.sent = sendLoad(b, port, paced)
	r.sendTime = time.Since(start)
	// Wait until the reader has read what the kernel kept, or stops making
	// progress for half a second (the ring hands over its last block when
	// its timer fires).
	for prev, still := int64(-1), 0; still < 5; {
		time.Sleep(100 * time.Millisecond)
		st, _ := h.Stats()
		n := nread.Load()
		if n >= int64(st.Received-st.Dropped) {
			break
		}
		if n == prev {
			still++
		} else {
			prev, still = n, 0
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

// benchConfigs are the captures BenchmarkBackends compares: none (the
// baseline cost of sending), the socket backend, the ring at its default
// size, and the ring at its smallest size (to tell the ring's mechanism
// from its larger buffer: the socket's is net.core.rmem_default, about
// 200 KiB).
var benchConfigs = []struct {
	name string
	opts live.Options
}{
	{"none", live.Options{Backend: "none"}}, // no capture: the senders' own cost
	{"socket", live.Options{Backend: live.BackendSocket}},
	{"ring", live.Options{Backend: live.BackendRing}},
	{"ring1M", live.Options{Backend: live.BackendRing, RingSize: live.MinRingSize}},
}

// BenchmarkBackends sends the same burst over lo to each of benchConfigs
// (one after the other, the order rotating between iterations) and
// reports, per configuration, the share of the burst read and dropped by
// the kernel, and CPU (user+sys from getrusage) per packet read: of the
// reader's thread, and of the whole process above the baseline without
// capture (the kernel queues packets for the capture in the senders'
// context), then each ring's ratios to the socket backend. Root only.
//
//	go test -run '^$' -bench Backends -benchtime 3x -v ./capture/live
func BenchmarkBackends(b *testing.B) { benchBackends(b, false) }

// BenchmarkBackendsPaced is BenchmarkBackends with the paced load.
func BenchmarkBackendsPaced(b *testing.B) { benchBackends(b, true) }

func benchBackends(b *testing.B, paced bool) {
	if os.Geteuid() != 0 {
		b.Skip("live capture needs root")
	}
	type sum struct{ sent, read, dropped, readerNs, processNs float64 }
	sums := map[string]*sum{}
	for i := 0; b.Loop(); i++ {
		for k := range benchConfigs {
			c := benchConfigs[(i+k)%len(benchConfigs)]
			r := burst(b, c.opts, paced)
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
	// Capture cost: process CPU above the no-capture baseline, per packet
	// read (the kernel's work queueing packets for the capture is done in
	// the senders' threads, so the reader's thread alone misses it).
	base := sums["none"]
	b.ReportMetric(base.processNs/base.sent, "none-process-ns/pkt")
	capture := func(s *sum) float64 { return (s.processNs - base.processNs/base.sent*s.sent) / s.read }
	for _, c := range benchConfigs[1:] {
		s := sums[c.name]
		b.ReportMetric(100*s.read/s.sent, c.name+"-read-%")
		b.ReportMetric(100*s.dropped/s.sent, c.name+"-dropped-%")
		b.ReportMetric(s.readerNs/s.read, c.name+"-reader-ns/pkt")
		b.ReportMetric(capture(s), c.name+"-capture-ns/pkt")
	}
	so := sums["socket"]
	for _, name := range []string{"ring", "ring1M"} {
		ri := sums[name]
		b.ReportMetric((ri.read/ri.sent)/(so.read/so.sent), name+"/socket-read")
		b.ReportMetric((ri.readerNs/ri.read)/(so.readerNs/so.read), name+"/socket-reader-cpu")
		b.ReportMetric(capture(ri)/capture(so), name+"/socket-capture-cpu")
		b.Logf("%s/socket: read %s, dropped %s, reader CPU per packet read %s, capture CPU (process above no capture) per packet read %s",
			name, ratio(ri.read/ri.sent, so.read/so.sent), ratio(ri.dropped/ri.sent, so.dropped/so.sent),
			ratio(ri.readerNs/ri.read, so.readerNs/so.read), ratio(capture(ri), capture(so)))
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return fmt.Sprintf("%.3g vs 0", a)
	}
	return fmt.Sprintf("%.2fx", a/b)
}
