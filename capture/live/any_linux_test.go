//go:build linux

package live_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture/filter"
	"github.com/tlsscope/tlsscope/capture/live"
)

// TestAnyInterface: -i any captures every interface as raw IP with the
// kernel running a filter compiled for raw IP: a TCP connection on lo is
// seen once (not the loopback's outgoing copy too), a connection to
// another port not at all, and Close ends a waiting Next.
func TestAnyInterface(t *testing.T) {
	needRoot(t)
	_, port := listen(t)
	_, other := listen(t)
	f, err := filter.Parse(fmt.Sprintf("tcp port %d", port))
	if err != nil {
		t.Fatal(err)
	}
	lt, err := live.LinkType(live.AnyInterface)
	if err != nil || lt != layers.LinkTypeRaw {
		t.Fatalf("any: link type %v, %v; want raw IP", lt, err)
	}
	prog, err := f.Compile(lt, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := live.Open(live.AnyInterface, live.Options{Filter: prog})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	pkts, done := collect(h)
	want := []byte(fmt.Sprintf("tlsscope any test %d %d", os.Getpid(), time.Now().UnixNano()))
	send(t, other, []byte("tlsscope: filtered out"))
	send(t, port, want)

	var got []captured
	seen := 0
	quiet := time.NewTimer(3 * time.Second)
wait:
	for {
		select {
		case p := <-pkts:
			got = append(got, p)
			if bytes.Contains(p.data, want) {
				seen++
				quiet.Reset(500 * time.Millisecond)
			}
		case <-quiet.C:
			break wait
		}
	}
	if seen != 1 {
		t.Fatalf("payload seen %d times in %d packets, want once", seen, len(got))
	}
	if len(got) < 5 {
		t.Errorf("only %d packets of the connection", len(got))
	}
	for i, p := range got {
		if len(p.data) < 24 || p.data[0]>>4 != 4 || p.data[9] != 6 {
			t.Errorf("packet %d is not raw IPv4/TCP: % x", i, p.data[:min(len(p.data), 24)])
			continue
		}
		ihl := int(p.data[0]&0x0f) * 4
		src, dst := binary.BigEndian.Uint16(p.data[ihl:]), binary.BigEndian.Uint16(p.data[ihl+2:])
		if src != port && dst != port {
			t.Errorf("packet %d: ports %d -> %d passed a filter for port %d", i, src, dst, port)
		}
		if p.ts.IsZero() || time.Since(p.ts) > time.Minute {
			t.Errorf("packet %d: timestamp %v", i, p.ts)
		}
	}
	if st, err := h.Stats(); err != nil || st.Received < uint64(len(got)) {
		t.Errorf("stats %+v, %v after %d packets", st, err, len(got))
	}
	start := time.Now()
	h.Close()
	select {
	case err := <-done:
		if !errors.Is(err, live.ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Next still waiting a second after Close")
	}
	t.Logf("%d packets, Next ended %v after Close", len(got), time.Since(start))
	if _, err := live.Open(live.AnyInterface, live.Options{Backend: live.BackendRing}); err == nil {
		t.Error("the ring backend opened any")
	}
}
