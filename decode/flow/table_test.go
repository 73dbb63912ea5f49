package flow

import (
	"math/rand"
	"net/netip"
	"slices"
	"testing"
	"time"
)

type testFlow struct {
	ent Entry[*testFlow]
	id  int
}

// TestTableFollowsActivity: against a plain model (a slice in order of
// last activity), over random adds, touches and removes of TCP and UDP
// flows, the table finds each flow by its key, keeps them least recently
// active first, and sizes eviction to the cap with headroom; its counters
// add up.
func TestTableFollowsActivity(t *testing.T) {
	const maxFlows = 50
	rng := rand.New(rand.NewSource(1))
	tb := NewTable[*testFlow](maxFlows, time.Minute)
	var model []*testFlow // least recently active first
	keyOf := func(i int) Key {
		a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 443)
		b := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), uint16(i))
		tr := TCP
		if i%2 == 1 {
			tr = UDP
		}
		return KeyOf(tr, PairOf(b, a))
	}
	now := time.Unix(1e9, 0)
	var opened, removed [2]uint64
	for step := 0; step < 20000; step++ {
		now = now.Add(time.Duration(rng.Intn(3)) * time.Millisecond) // equal times too
		switch op := rng.Intn(10); {
		case op < 4 || len(model) == 0:
			f := &testFlow{id: rng.Intn(200)}
			f.ent.Flow = f
			k := keyOf(f.id)
			if old := tb.Get(k); old != nil {
				continue // the adapters end the old flow first
			}
			tb.Add(&f.ent, k, now)
			model = append(model, f)
			if k.Transport() == UDP {
				opened[1]++
			} else {
				opened[0]++
			}
		case op < 8:
			f := model[rng.Intn(len(model))]
			before := f.ent.LastSeen()
			tb.Touch(&f.ent, now)
			if now.After(before) {
				i := slices.Index(model, f)
				model = append(slices.Delete(model, i, i+1), f)
			}
		default:
			i := rng.Intn(len(model))
			f := model[i]
			why := Why(rng.Intn(4))
			tb.Remove(&f.ent, why)
			tb.Remove(&f.ent, why) // a second time does nothing
			model = slices.Delete(model, i, i+1)
			if f.ent.In() || tb.Get(f.ent.Key()) != nil {
				t.Fatalf("step %d: removed flow still in the table", step)
			}
			removed[0]++
		}
		if tb.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, tb.Len(), len(model))
		}
		i := 0
		for e := tb.Oldest(); e != nil; e = tb.Next(e) {
			if i >= len(model) || e.Flow != model[i] {
				t.Fatalf("step %d: activity order differs at %d", step, i)
			}
			if tb.Get(e.Key()) != e {
				t.Fatalf("step %d: key does not find its flow", step)
			}
			i++
		}
		if full := len(model) > maxFlows; tb.Full() != full {
			t.Fatalf("step %d: Full %v with %d flows", step, tb.Full(), len(model))
		}
		if want := max(0, len(model)-(maxFlows-maxFlows/EvictHeadroom)); tb.Excess() != want {
			t.Fatalf("step %d: Excess %d, want %d", step, tb.Excess(), want)
		}
		if len(model) > 80 { // keep the model in the cap's neighbourhood
			for n := tb.Excess(); n > 0; n-- {
				e := tb.Oldest()
				tb.Remove(e, Evicted)
				model = model[1:]
				removed[0]++
			}
		}
	}
	c := tb.Counters()
	if c.TCP != opened[0] || c.UDP != opened[1] {
		t.Errorf("opened %d TCP %d UDP, want %d %d", c.TCP, c.UDP, opened[0], opened[1])
	}
	if got := c.Ended + c.Idle + c.Evicted + c.Input; got != removed[0] {
		t.Errorf("removed %d, want %d", got, removed[0])
	}
	if c.Evicted == 0 || c.Peak < 80 || c.Peak > 81 {
		t.Errorf("evicted %d, peak %d", c.Evicted, c.Peak)
	}
}

// TestKeyTransportApart: the same endpoints over TCP and over UDP are two
// flows.
func TestKeyTransportApart(t *testing.T) {
	a, b := netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("192.0.2.2:5353")
	if KeyOf(TCP, PairOf(a, b)) == KeyOf(UDP, PairOf(a, b)) {
		t.Error("TCP and UDP keys equal")
	}
	if KeyOf(UDP, PairOf(a, b)) != KeyOf(UDP, PairOf(b, a)) {
		t.Error("UDP key depends on the direction")
	}
	if KeyOf(UDP, PairOf(a, b)).Transport() != UDP || UDP.String() != "udp" || TCP.String() != "tcp" {
		t.Error("transport lost")
	}
}
