package decode_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestShardsWithFragments: on captures cut into IPv4 fragments (in order,
// reversed, last duplicated), exactly one of three shards reports the
// connection, with the Handler calls (ids included) of an unsharded run,
// for one Analyzer and for two workers; the other shards report no
// connection and count its frames in Stats.OtherShard.
func TestShardsWithFragments(t *testing.T) {
	dir := testutil.Pcaps(t)
	compared := 0
	for _, name := range []string{"http-form-login.pcap", "tls13-go.pcap", "tls12-chacha20-openssl.pcap"} {
		pkts := readPackets(t, filepath.Join(dir, name))
		for _, shape := range []string{"in order", "reversed", "duplicate last"} {
			frags, _ := fragment(t, pkts, shape)
			whole := packetCalls(slicePackets(frags), func(h decode.Handler) decode.Engine { return decode.New(decode.Config{}, h) }, nil, 0)
			for _, workers := range []int{1, 2} {
				owners := 0
				for k := range 3 {
					cfg := decode.Config{Shard: facts.Shard{K: k, N: 3}}
					var st facts.Stats
					got := packetCalls(slicePackets(frags), func(h decode.Handler) decode.Engine {
						if workers == 1 {
							return decode.New(cfg, h)
						}
						return decode.NewParallel(cfg, h, workers)
					}, func(c *facts.Connection, s facts.Stats) {
						if c == nil {
							st = s
						}
					}, 0)
					conns := slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "connection ") })
					switch {
					case conns:
						owners++
						compared++
						if !slices.Equal(got, whole) {
							t.Errorf("%s, %s, %d workers, shard %d/3: calls\n%q\nunsharded\n%q", name, shape, workers, k, got, whole)
						}
					case st.OtherShard == 0:
						t.Errorf("%s, %s, %d workers, shard %d/3: no connection and no frame counted as another shard's", name, shape, workers, k)
					}
					if st.Shard != cfg.Shard {
						t.Errorf("%s shard %d/3: Stats.Shard %v", name, k, st.Shard)
					}
				}
				if owners != 1 {
					t.Errorf("%s, %s, %d workers: %d shards report the connection", name, shape, workers, owners)
				}
			}
		}
	}
	if compared < 18 {
		t.Errorf("only %d comparisons", compared)
	}
}
