package tlsscope

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseShard reads a shard as the command line gives it, "K/N" with
// 0 <= K < N (Config.Shard and Config.Shards).
func ParseShard(s string) (shard, shards int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(strings.TrimSpace(ks))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("%q is not K/N with 0 <= K < N", s)
	}
	return k, n, nil
}
