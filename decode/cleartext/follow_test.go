package cleartext

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// followChunk is one run of bytes in one direction, as tshark's "follow
// tcp raw" prints it: Node 0 (the endpoint that opened the connection)
// unindented, Node 1 indented by a tab.
type followChunk struct {
	dir  tls.Direction
	data []byte
}

type followStream struct {
	index      int
	serverPort uint16
	chunks     []followChunk
}

// followTCP returns every TCP stream of a capture, each reassembled by
// tshark independently of this package.
func followTCP(t testing.TB, pcap string) []followStream {
	return followTCPFiltered(t, pcap, "tcp")
}

// followTCPFiltered follows only the streams with a packet matching a
// display filter.
func followTCPFiltered(t testing.TB, pcap, filter string) []followStream {
	t.Helper()
	key := pcap + "\x00" + filter
	if v, ok := followCache.Load(key); ok {
		return v.([]followStream)
	}
	streams := followTCPUncached(t, pcap, filter)
	followCache.Store(key, streams)
	return streams
}

// followCache: tshark takes about a second to start; each capture is
// followed once per test binary.
var followCache sync.Map

// fastStreams: captures with fewer TCP streams than this are followed in
// one tshark run (asking for a stream that does not exist costs nothing).
const fastStreams = 32

func followTCPUncached(t testing.TB, pcap, filter string) []followStream {
	tshark := testutil.Tool(t, "tshark")
	if filter == "tcp" {
		ids := make([]int, fastStreams)
		for i := range ids {
			ids[i] = i
		}
		all := followIDs(t, tshark, pcap, ids)
		var streams []followStream
		for _, fs := range all {
			if len(fs.chunks) > 0 {
				streams = append(streams, fs)
			}
		}
		if len(all) == fastStreams && len(all[fastStreams-1].chunks) == 0 {
			return streams
		}
	}
	out, err := exec.Command(tshark, "-r", pcap, "-Y", filter, "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", pcap, err)
	}
	seen := map[int]bool{}
	var ids []int
	for _, l := range strings.Fields(string(out)) {
		n, err := strconv.Atoi(l)
		if err == nil && !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return followIDs(t, tshark, pcap, ids)
}

// followIDs runs one tshark over a capture, following the given streams.
func followIDs(t testing.TB, tshark, pcap string, ids []int) []followStream {
	args := []string{"-r", pcap, "-q"}
	for _, id := range ids {
		args = append(args, "-z", "follow,tcp,raw,"+strconv.Itoa(id))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark follow %s: %v", pcap, err)
	}
	var streams []followStream
	var cur *followStream
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Filter: tcp.stream eq "):
			n, _ := strconv.Atoi(strings.TrimPrefix(l, "Filter: tcp.stream eq "))
			streams = append(streams, followStream{index: n})
			cur = &streams[len(streams)-1]
		case cur == nil, strings.HasPrefix(l, "===="), strings.HasPrefix(l, "Follow:"), l == "":
		case strings.HasPrefix(l, "Node 0:"):
		case strings.HasPrefix(l, "Node 1:"):
			addr := strings.TrimSpace(strings.TrimPrefix(l, "Node 1:"))
			if i := strings.LastIndexByte(addr, ':'); i >= 0 {
				p, _ := strconv.Atoi(addr[i+1:])
				cur.serverPort = uint16(p)
			}
		default:
			dir := tls.ClientToServer
			if strings.HasPrefix(l, "\t") {
				dir = tls.ServerToClient
			}
			b, err := hex.DecodeString(strings.TrimSpace(l))
			if err != nil {
				t.Fatalf("%s stream %d: bad hex line %q", pcap, cur.index, l)
			}
			cur.chunks = append(cur.chunks, followChunk{dir, b})
		}
	}
	return streams
}

// runResult is what one stream gave.
type runResult struct {
	proto     Protocol
	secrets   []facts.Secret
	http      []facts.HTTPMessage
	anomalies []string
	startTLS  int // index of the chunk whose Feed returned true; -1 never
}

// runStream sniffs a stream from its first chunk and feeds every chunk in
// order (split into pieces of at most split bytes when split > 0), as the
// Analyzer does.
func runStream(fs followStream, cfg Config, split int) runResult {
	r := runResult{startTLS: -1}
	if len(fs.chunks) == 0 {
		return r
	}
	r.proto = Sniff(fs.chunks[0].data, fs.chunks[0].dir, fs.serverPort)
	if r.proto == "" {
		return r
	}
	st := NewStream(r.proto, cfg, Handler{
		Secret:  func(s facts.Secret) { r.secrets = append(r.secrets, s) },
		HTTP:    func(m facts.HTTPMessage) { r.http = append(r.http, m) },
		Anomaly: func(kind string, _ tls.Direction, _ string) { r.anomalies = append(r.anomalies, kind) },
	})
	ts := time.Unix(1700000000, 0)
	for i, c := range fs.chunks {
		data := c.data
		for len(data) > 0 {
			n := len(data)
			if split > 0 && n > split {
				n = split
			}
			if st.Feed(c.dir, data[:n], ts) {
				r.startTLS = i
				st.Close()
				return r
			}
			data = data[n:]
		}
	}
	st.Close()
	return r
}

// runCapture runs every stream of a capture.
func runCapture(t testing.TB, pcap string, cfg Config) map[int]runResult {
	res := map[int]runResult{}
	for _, fs := range followTCP(t, pcap) {
		res[fs.index] = runStream(fs, cfg, 0)
	}
	return res
}
