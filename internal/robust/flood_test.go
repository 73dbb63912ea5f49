package robust

import (
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
)

// writeSYNFlood writes n SYNs, each from its own client endpoint, none
// answered: n half-open connections.
func writeSYNFlood(t testing.TB, path string, n int) {
	g := newPcap(t, path)
	for i := range n {
		g.packet(addrN(i), server, flagSYN, uint32(i)*7919, 0, nil)
	}
	g.close()
}

// stalledHello is what each client of writeStalledHellos sends: a record
// header claiming 16 KiB, a ClientHello header claiming 16 KiB - 4, and 1
// KiB of the body; the rest never comes.
func stalledHello() []byte {
	b := append(recordHeader(ctHandshake, 1<<14), handshake(1, 1<<14-4, nil)...)
	body := clientHelloBody(nil)
	b = append(b, body...)
	for len(b) < 5+1024 {
		b = append(b, 0x5a)
	}
	return b
}

// writeStalledHellos writes n connections, each opened and then sending
// a ClientHello that is never finished.
func writeStalledHellos(t testing.TB, path string, n int) {
	g := newPcap(t, path)
	hello := stalledHello()
	for i := range n {
		k := g.open(addrN(i), server)
		k.send(false, hello)
	}
	g.close()
}

// Bounds on the live heap (HeapInuse after a GC) while a flood is decoded.
// What the decoder holds per tracked connection: its stream and
// facts.Connection (about 1 KiB), gopacket's reassembly connection and
// two half-connections with their map entries (about 1 KiB), and for a
// stalled ClientHello the 1 KiB body kept by the framer plus the slice's
// growth slack and the tls.Conn (about 2.5 KiB). perFlowBudget is twice the
// sum, as the GC's target lets the heap run ahead of the live set; base
// covers the test binary, the read buffers (2 MiB), the kept connections
// for the report (keepConnections, up to about 5 MiB) and the pools.
const (
	floodBase       = 48 << 20
	synFlowBudget   = 4 << 10
	helloFlowBudget = 9 << 10
)

func floodBound(flows, perFlow int) uint64 { return uint64(floodBase + flows*perFlow) }

// TestFloodsBounded: floods of half-open connections and of stalled
// ClientHellos run to completion; with a flow cap smaller than the flood,
// flows are evicted (Stats.Evicted, flow_evicted anomalies) and the live
// heap stays under a bound proportional to the cap, not to the flood.
//
// The normal run floods 200,000 half-open connections and 10,000 stalled
// hellos (-short: 5,000 and 2,000). Decode's eviction closes a round's
// flows with one reassembler flush, so the default cap of 100,000 is
// reached and held in seconds.
func TestFloodsBounded(t *testing.T) {
	synN, helloN := 200_000, 10_000
	if testing.Short() {
		synN, helloN = 5_000, 2_000
	}
	full := synN >= 200_000
	dir := t.TempDir()
	synPath := filepath.Join(dir, "syn-flood.pcap")
	helloPath := filepath.Join(dir, "stalled-hellos.pcap")
	writeSYNFlood(t, synPath, synN)
	writeStalledHellos(t, helloPath, helloN)

	type floodCase struct {
		name     string
		path     string
		flows    int // connections in the capture
		maxFlows int // decode.Config.MaxFlows (0: the default)
		perFlow  int
	}
	cases := []floodCase{
		{"syn-flood-default-cap", synPath, synN, 0, synFlowBudget},
		{"syn-flood-cap-1000", synPath, synN, 1000, synFlowBudget},
		{"stalled-hellos-default-cap", helloPath, helloN, 0, helloFlowBudget},
		{"stalled-hellos-cap-1000", helloPath, helloN, 1000, helloFlowBudget},
	}
	if full {
		cases = append(cases, floodCase{"syn-flood-cap-10000", synPath, synN, 10_000, synFlowBudget})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			maxFlows := tc.maxFlows
			if maxFlows == 0 {
				maxFlows = decode.DefaultMaxFlows
			}
			tracked := min(tc.flows, maxFlows)
			bound := floodBound(tracked, tc.perFlow)
			o := finishes(t, tc.name, func() *outcome {
				return runFile(tc.path, options{cfg: decode.Config{MaxFlows: tc.maxFlows}, sampleEvery: max(2000, tc.flows/10),
					formats: []string{"ndjson", "table"}})
			})
			if o.openErr != nil || o.readErr != nil || o.writeErr != nil {
				t.Fatalf("open %v, read %v, write %v", o.openErr, o.readErr, o.writeErr)
			}
			st := o.stats
			t.Logf("%d packets, %d connections reported (%d empty), %d evicted, %d heap samples: peak HeapInuse %.1f MiB, HeapAlloc %.1f MiB (bound %.0f MiB for %d tracked flows)",
				o.packets, o.conns, st.Empty, st.Evicted, o.samples, mib(o.peakInuse), mib(o.peakAlloc), mib(bound), tracked)
			// Connections without payload are counted in Stats.Empty and
			// not reported.
			if uint64(o.conns)+st.Empty != uint64(tc.flows) || st.Connections != uint64(o.conns) {
				t.Errorf("%d connections reported, %d counted, %d empty: want %d in all", o.conns, st.Connections, st.Empty, tc.flows)
			}
			if tc.flows > maxFlows {
				if st.Evicted == 0 || st.Anomalies["flow_evicted"] != st.Evicted {
					t.Errorf("Evicted %d, flow_evicted anomalies %d: want equal and > 0", st.Evicted, st.Anomalies["flow_evicted"])
				}
				if st.Evicted < uint64(tc.flows-maxFlows) {
					t.Errorf("Evicted %d, want at least %d (flows over the cap)", st.Evicted, tc.flows-maxFlows)
				}
			}
			if o.peakInuse > bound {
				t.Errorf("heap in use peaked at %.1f MiB, over the %.0f MiB bound", mib(o.peakInuse), mib(bound))
			}
		})
	}
}
