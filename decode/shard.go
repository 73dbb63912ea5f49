package decode

import (
	"net/netip"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/flow"
)

// InShard reports whether the flow between a and b (in either order) is in
// shard s: the high half of flow.HashPair, the hash Parallel deals
// workers by, modulo s.N is s.K. Parallel picks a worker from the low
// bits (hash % workers), so within a shard the flows still spread over
// every worker; with the same bits, shard K of 3 over 3 workers would all
// land on worker K.
//
// The Analyzer enforces it, in one place (packet), after decoding a
// frame's headers: every shard reads every frame, so connection ids
// (frame numbers), idle flushes and IPv4 reassembly are those of an
// unsharded run, and the shards of a capture together report each of its
// connections exactly once.
func InShard(s facts.Shard, a, b netip.AddrPort) bool {
	if s.N < 2 {
		return true
	}
	return (flow.HashPair(a, b)>>32)%uint64(s.N) == uint64(s.K)
}
