package flow

import (
	"math/rand"
	"net/netip"
	"testing"
)

// TestPairOfNamesUnorderedEndpoints: two Pairs are equal exactly when their
// endpoints are the same two netip.AddrPorts, in either order; IPv4 and
// the same address mapped into IPv6 stay apart, as netip keeps them.
func TestPairOfNamesUnorderedEndpoints(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	// A small pool, so that equal endpoints and shared addresses are common.
	var pool []netip.AddrPort
	for _, s := range []string{"10.0.0.1", "10.0.0.2", "::ffff:10.0.0.1", "::a00:1", "2001:db8::1", "0.0.0.0", "::"} {
		for _, port := range []uint16{0, 443, 0xbb01, 65535} {
			pool = append(pool, netip.AddrPortFrom(netip.MustParseAddr(s), port))
		}
	}
	pool = append(pool, netip.AddrPort{}) // the zero value, apart from 0.0.0.0:0 and [::]:0
	same := func(a, b, c, d netip.AddrPort) bool { return a == c && b == d || a == d && b == c }
	for i := 0; i < 200000; i++ {
		a, b := pool[rng.Intn(len(pool))], pool[rng.Intn(len(pool))]
		c, d := pool[rng.Intn(len(pool))], pool[rng.Intn(len(pool))]
		if PairOf(a, b) != PairOf(b, a) {
			t.Fatalf("PairOf(%v, %v) depends on the order", a, b)
		}
		if got, want := PairOf(a, b) == PairOf(c, d), same(a, b, c, d); got != want {
			t.Fatalf("PairOf(%v, %v) == PairOf(%v, %v) is %v, want %v", a, b, c, d, got, want)
		}
	}
}

// BenchmarkPairMap compares a map keyed by Pair with one keyed by the
// ordered [2]netip.AddrPort it replaces, on lookups that hit.
func BenchmarkPairMap(b *testing.B) {
	const n = 10000
	eps := make([][2]netip.AddrPort, n)
	for i := range eps {
		eps[i][0] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(20000+i))
		eps[i][1] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 443)
	}
	b.Run("Pair", func(b *testing.B) {
		m := make(map[Pair]int, n)
		for i, e := range eps {
			m[PairOf(e[0], e[1])] = i
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e := eps[i%n]
			if m[PairOf(e[1], e[0])] != i%n {
				b.Fatal("miss")
			}
		}
	})
	b.Run("AddrPorts", func(b *testing.B) {
		key := func(x, y netip.AddrPort) [2]netip.AddrPort {
			if x.Addr().Less(y.Addr()) || x.Addr() == y.Addr() && x.Port() < y.Port() {
				return [2]netip.AddrPort{x, y}
			}
			return [2]netip.AddrPort{y, x}
		}
		m := make(map[[2]netip.AddrPort]int, n)
		for i, e := range eps {
			m[key(e[0], e[1])] = i
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e := eps[i%n]
			if m[key(e[1], e[0])] != i%n {
				b.Fatal("miss")
			}
		}
	})
}
