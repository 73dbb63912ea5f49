// Command soak runs tlsscope on lo for a while under load and reports what
// it costs: it starts `tlsscope -i lo -f 'tcp port P' --format ndjson`,
// drives thousands of TLS 1.3, TLS 1.2 (Go crypto/tls) and plain-HTTP
// login connections to one port on 127.0.0.1 at a fixed concurrency,
// samples tlsscope's VmRSS and VmHWM from /proc every second, stops it
// with SIGINT and reads its summary record (packets, kernel received and
// dropped). It prints the figures and, with -benchmarks FILE, rewrites the
// "## Live capture soak" section of that file (and nothing else).
//
// Needs root (live capture). Traffic goes only to 127.0.0.1, from source
// addresses in 127.0.0.0/8 so that thousands of connections do not run
// out of ephemeral ports. Every loop is bounded by -duration.
//
//	go run ./scripts/soak -duration 60s -concurrency 8 -benchmarks BENCHMARKS.md
package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const sectionHeading = "## Live capture soak"

type options struct {
	bin         string
	iface       string
	duration    time.Duration
	concurrency int
	httpEvery   int
	respBytes   int
	sources     int
	benchmarks  string
	extra       string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "tlsscope binary (default: go build ./cmd/tlsscope into a temporary directory)")
	flag.StringVar(&o.iface, "iface", "lo", "interface to capture on (traffic always goes to 127.0.0.1)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to drive traffic")
	flag.IntVar(&o.concurrency, "concurrency", 8, "connections in flight at once")
	flag.IntVar(&o.httpEvery, "http-every", 3, "every Nth connection is a plain-HTTP login (0: none); the others alternate TLS 1.3 and 1.2")
	flag.IntVar(&o.respBytes, "response-bytes", 2048, "bytes the server sends back on each connection")
	flag.IntVar(&o.sources, "sources", 16, "client source addresses 127.0.0.2.. to spread ephemeral ports over")
	flag.StringVar(&o.benchmarks, "benchmarks", "", "rewrite the '"+sectionHeading+"' section of this file with the results")
	flag.StringVar(&o.extra, "args", "", "more tlsscope arguments, space-separated (e.g. '--memprofile /tmp/mem.prof')")
	flag.Parse()
	if err := soak(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak: error:", err)
		os.Exit(1)
	}
}

// result is what one soak measured.
type result struct {
	opts                options
	elapsed             time.Duration // from the first connection to SIGINT
	tls13, tls12, plain int64
	failed              int64
	connLines           atomic.Int64 // connection records tlsscope printed live
	findingLines        int
	summary             summary
	samples             []rssSample
	exitCode            int
	command             string
	loadStart, loadEnd  string
	heapEnd             string         // live Go heap when tlsscope ended, from its --memprofile
	printedClients      map[string]int // connection lines per client address
	missing             map[string]int // driven connections without a line, by kind
	missingReused       int            // of those, on a client address used before in the run
	reused              int            // driven connections on a client address used before
}

type summary struct {
	Packets        uint64 `json:"packets"`
	Bytes          uint64 `json:"bytes"`
	Connections    int    `json:"connections"`
	TLSConnections int    `json:"tls_connections"`
	Handshakes     int    `json:"handshakes_complete"`
	Failed         int    `json:"handshakes_failed"`
	Gaps           uint64 `json:"gaps"`
	Evicted        uint64 `json:"evicted"`
	KernelReceived uint64 `json:"kernel_received"`
	KernelDropped  uint64 `json:"kernel_dropped"`
}

type rssSample struct {
	at       time.Duration
	rss, hwm int64 // KiB
	conns    int64 // connection lines printed by then
}

func soak(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("live capture needs root")
	}
	if o.bin == "" {
		dir, err := os.MkdirTemp("", "soak")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if o.bin, err = build(dir); err != nil {
			return err
		}
	}
	cert, pool, err := newCert()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go serve(ln, &tls.Config{Certificates: []tls.Certificate{cert}}, o.respBytes)

	args := []string{"-i", o.iface, "-f", fmt.Sprintf("tcp port %d", port), "--format", "ndjson", "-q"}
	args = append(args, strings.Fields(o.extra)...)
	r := &result{opts: o, command: "tlsscope " + strings.Join(quoteArgs(args), " "), printedClients: map[string]int{}}
	// The live heap at the end (after a GC) tells retained memory from the
	// runtime's slack in RSS; the profile is left out of the command shown.
	prof := ""
	if !strings.Contains(o.extra, "--memprofile") {
		dir, err := os.MkdirTemp("", "soakheap")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		prof = filepath.Join(dir, "heap.prof")
		args = append(args, "--memprofile", prof)
	}
	cmd := exec.Command(o.bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill() // after a failure; a no-op once it has exited

	// Read tlsscope's lines as they come: count them, keep the summary.
	probe := make(chan string, 16)
	readDone := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var rec struct {
				Type   string `json:"type"`
				Scope  string `json:"scope"`
				SNI    string `json:"sni"`
				Client string `json:"client"`
			}
			line := sc.Bytes()
			if err := json.Unmarshal(line, &rec); err != nil {
				readDone <- fmt.Errorf("bad line from tlsscope: %q", line)
				return
			}
			switch rec.Type {
			case "connection":
				r.connLines.Add(1)
				r.printedClients[rec.Client]++
				if rec.SNI == "probe.soak" {
					select {
					case probe <- rec.Client:
					default:
					}
				}
			case "finding":
				r.findingLines++
			case "summary":
				if rec.Scope == "total" {
					json.Unmarshal(line, &r.summary)
				}
			}
		}
		readDone <- sc.Err()
	}()

	// Wait until it captures: probe handshakes until one is printed.
	cl := newClient(port, pool, o)
	if err := awaitCapturing(cl, probe); err != nil {
		return fmt.Errorf("%w; tlsscope said: %s", err, stderr.String())
	}

	// Sample its memory every second.
	pid := cmd.Process.Pid
	r.loadStart = loadAverage()
	start := time.Now()
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if rss, hwm, err := memory(pid); err == nil {
					r.samples = append(r.samples, rssSample{at: time.Since(start), rss: rss, hwm: hwm, conns: r.connLines.Load()})
				}
			case <-stopSampling:
				return
			}
		}
	}()

	// Drive traffic for the duration.
	var n, nTLS atomic.Int64
	var wg sync.WaitGroup
	end := start.Add(o.duration)
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				i := n.Add(1)
				switch {
				case o.httpEvery > 0 && i%int64(o.httpEvery) == 0:
					if cl.httpLogin(i) == nil {
						atomic.AddInt64(&r.plain, 1)
					} else {
						atomic.AddInt64(&r.failed, 1)
					}
				default:
					v := uint16(tls.VersionTLS13)
					if nTLS.Add(1)%2 == 0 {
						v = tls.VersionTLS12
					}
					if cl.tls(i, v, "") != nil {
						atomic.AddInt64(&r.failed, 1)
					} else if v == tls.VersionTLS13 {
						atomic.AddInt64(&r.tls13, 1)
					} else {
						atomic.AddInt64(&r.tls12, 1)
					}
				}
			}
		}()
	}
	wg.Wait()
	// Let the last packets reach the socket, then stop it.
	time.Sleep(500 * time.Millisecond)
	if rss, hwm, err := memory(pid); err == nil {
		r.samples = append(r.samples, rssSample{at: time.Since(start), rss: rss, hwm: hwm, conns: r.connLines.Load()})
	}
	r.loadEnd = loadAverage()
	close(stopSampling)
	sampling.Wait()
	r.elapsed = time.Since(start)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case err := <-readDone:
		if err != nil {
			return err
		}
	case <-time.After(2 * time.Minute):
		return errors.New("tlsscope did not exit within 2 minutes of SIGINT")
	}
	werr := cmd.Wait()
	r.exitCode = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return werr
	}
	if r.exitCode != 0 {
		return fmt.Errorf("tlsscope exited with %d: %s", r.exitCode, stderr.String())
	}
	if r.summary.Packets == 0 {
		return fmt.Errorf("no summary from tlsscope: %s", stderr.String())
	}
	r.missed(cl)
	if prof != "" {
		r.heapEnd = heapInUse(o.bin, prof)
	}
	text := r.markdown()
	fmt.Print(text)
	if o.benchmarks != "" {
		return rewriteSection(o.benchmarks, text)
	}
	return nil
}

// heapInUse is the in-use total of a heap profile as go tool pprof prints
// it ("" when it cannot be read).
func heapInUse(bin, prof string) string {
	out, err := exec.Command("go", "tool", "pprof", "-sample_index=inuse_space", "-top", bin, prof).Output()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`of ([0-9.]+[kMG]?B) total`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// build compiles tlsscope from the module this program is run in.
func build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tlsscope")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/tlsscope")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found: run from the repository or give -bin")
		}
		dir = parent
	}
}

// newCert makes a throwaway ECDSA P-256 certificate for 127.0.0.1.
func newCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "soak.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		DNSNames: []string{"soak.test", "probe.soak"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool, nil
}

// serve answers TLS and plain HTTP on one port, told apart by the first
// byte (22: a TLS handshake record): TLS clients send a line and get
// respBytes back; HTTP clients get a 200 with respBytes of body.
func serve(ln net.Listener, cfg *tls.Config, respBytes int) {
	body := bytes.Repeat([]byte("x"), respBytes)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(c)
			first, err := br.Peek(1)
			if err != nil {
				return
			}
			if first[0] == 22 {
				tc := tls.Server(&peeked{Conn: c, r: br}, cfg)
				line, err := bufio.NewReader(tc).ReadString('\n')
				if err != nil || line == "" {
					return
				}
				tc.Write(body)
				tc.Close()
				return
			}
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
			c.Write(body)
		}()
	}
}

// peeked is a net.Conn whose first bytes were read into r.
type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) }

// client dials 127.0.0.1:port from 127.0.0.2 .. 127.0.0.(1+sources).
type client struct {
	addr    string
	pool    *x509.CertPool
	sources []*net.TCPAddr

	mu     sync.Mutex
	driven []dialed // every connection made, in the order dialled
}

// dialed is one connection the load generator made.
type dialed struct {
	local string
	at    time.Time
	kind  string
}

func newClient(port int, pool *x509.CertPool, o options) *client {
	c := &client{addr: fmt.Sprintf("127.0.0.1:%d", port), pool: pool}
	for i := 0; i < max(o.sources, 1); i++ {
		c.sources = append(c.sources, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))})
	}
	return c
}

func (c *client) dial(i int64, kind string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: c.sources[int(i)%len(c.sources)]}
	conn, err := d.Dial("tcp", c.addr)
	if err == nil {
		c.mu.Lock()
		c.driven = append(c.driven, dialed{local: conn.LocalAddr().String(), at: time.Now(), kind: kind})
		c.mu.Unlock()
	}
	return conn, err
}

// tls makes one full handshake at version v (no session resumption), sends
// a line and reads the answer to the end.
func (c *client) tls(i int64, v uint16, sni string) error {
	kind := "TLS 1.3"
	if v == tls.VersionTLS12 {
		kind = "TLS 1.2"
	}
	raw, err := c.dial(i, kind)
	if err != nil {
		return err
	}
	if sni == "" {
		sni = "soak.test"
	}
	tc := tls.Client(raw, &tls.Config{RootCAs: c.pool, ServerName: sni, MinVersion: v, MaxVersion: v})
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(tc, "GET /soak\n"); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, tc)
	return err
}

// httpLogin POSTs a form password with Basic auth in the clear.
func (c *client) httpLogin(i int64) error {
	conn, err := c.dial(i, "HTTP")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	body := "username=alice&password=hunter2"
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: soak.test\r\nAuthorization: Basic YWxpY2U6aHVudGVyMg==\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func awaitCapturing(cl *client, printed <-chan string) error {
	give := time.Now().Add(30 * time.Second)
	for i := int64(0); time.Now().Before(give); i++ {
		if err := cl.tls(i, tls.VersionTLS13, "probe.soak"); err != nil {
			return fmt.Errorf("probe connection: %w", err)
		}
		select {
		case <-printed:
			return nil
		case <-time.After(300 * time.Millisecond):
		}
	}
	return errors.New("tlsscope printed no probe connection within 30 s")
}

// memory reads VmRSS and VmHWM (KiB) of a process.
func memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// missed finds the driven connections no line was printed for: a client
// address printed n times accounts for its first n connections.
func (r *result) missed(cl *client) {
	r.missing = map[string]int{}
	left := maps.Clone(r.printedClients)
	used := map[string]bool{}
	for _, d := range cl.driven {
		if left[d.local] > 0 {
			left[d.local]--
		} else {
			r.missing[d.kind]++
			if used[d.local] {
				r.missingReused++
			}
		}
		if used[d.local] {
			r.reused++
		}
		used[d.local] = true
	}
}

// at is the sample nearest to d after the start.
func (r *result) at(d time.Duration) rssSample {
	var best rssSample
	for _, s := range r.samples {
		if best.at == 0 || abs(s.at-d) < abs(best.at-d) {
			best = s
		}
	}
	return best
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (r *result) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	secs := r.elapsed.Seconds()
	driven := r.tls13 + r.tls12 + r.plain
	s := r.summary
	var peak int64
	for _, x := range r.samples {
		peak = max(peak, x.hwm)
	}
	at10 := r.at(10 * time.Second)
	last := r.samples[len(r.samples)-1]

	w("%s\n\n", sectionHeading)
	w("`go run ./scripts/soak -duration %s -concurrency %d` (run as root; %s) started\n", r.opts.duration, r.opts.concurrency, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w("`%s` and drove Go crypto/tls TLS 1.3 and TLS 1.2 full handshakes and, one in %d, a plain-HTTP login\n", r.command, r.opts.httpEvery)
	w("(form password and Basic auth) to 127.0.0.1, %d at a time, with %d bytes back on each; then SIGINT.\n\n", r.opts.concurrency, r.opts.respBytes)
	w("Machine: %s.\n\n", machine())
	w("| figure | value |\n| --- | --- |\n")
	w("| connections driven | %d in %.1f s (%.0f/s): %d TLS 1.3, %d TLS 1.2, %d HTTP; %d failed |\n", driven, secs, float64(driven)/secs, r.tls13, r.tls12, r.plain, r.failed)
	w("| connections tlsscope counted | %d (%d TLS, %d handshakes complete, %d failed) |\n", s.Connections, s.TLSConnections, s.Handshakes, s.Failed)
	var nMissing int
	var kinds []string
	for _, k := range []string{"TLS 1.3", "TLS 1.2", "HTTP"} {
		nMissing += r.missing[k]
		kinds = append(kinds, fmt.Sprintf("%d %s", r.missing[k], k))
	}
	w("| driven connections without a line | %d (%s); %d of them on a client address and port used earlier in the run (as were %d of all driven) |\n", nMissing, strings.Join(kinds, ", "), r.missingReused, r.reused)
	w("| lines streamed live | %d connection, %d finding |\n", r.connLines.Load(), r.findingLines)
	w("| packets seen | %d (%.0f packets/s, %.1f MB/s) |\n", s.Packets, float64(s.Packets)/secs, float64(s.Bytes)/secs/1e6)
	kernel := fmt.Sprintf("received %d, dropped %d", s.KernelReceived, s.KernelDropped)
	if s.KernelReceived == 0 {
		kernel = "not reported (the summary printed kernel_received 0)"
	}
	w("| kernel counters | %s |\n", kernel)
	w("| reassembly gaps, evicted flows | %d, %d |\n", s.Gaps, s.Evicted)
	w("| peak RSS (VmHWM) | %.1f MiB |\n", float64(peak)/1024)
	w("| RSS at %.0f s / at the end (%.0f s) | %.1f MiB / %.1f MiB (%+.1f%%) |\n", at10.at.Seconds(), last.at.Seconds(),
		float64(at10.rss)/1024, float64(last.rss)/1024, 100*float64(last.rss-at10.rss)/float64(max(at10.rss, 1)))
	if dc := last.conns - at10.conns; dc > 0 {
		w("| RSS growth from %.0f s to the end | %.1f KiB per connection printed (%d connections) |\n", at10.at.Seconds(), float64(last.rss-at10.rss)/float64(dc), dc)
	}
	if r.heapEnd != "" {
		w("| Go heap in use at the end (after a GC, --memprofile) | %s after %d connections |\n", r.heapEnd, s.Connections)
	}
	w("\nRSS every 10 s (MiB):")
	for d := 10 * time.Second; d <= last.at+time.Second; d += 10 * time.Second {
		x := r.at(d)
		w(" %.0fs %.1f", x.at.Seconds(), float64(x.rss)/1024)
	}
	w("\n\nRSS follows the flows still open, not the connections closed (nothing of a closed connection is kept): a connection whose\n")
	w("FIN or RST the kernel dropped stays open until --idle-timeout (2 min by default), and decode remembers a closed address pair\n")
	w("for 30 s to recognise its late packets; once both windows have filled, RSS is flat.")
	w("\n\nA driven connection without a line was lost to kernel drops or merged into another: clients bind 127.0.0.2-%d and the kernel\n", 1+max(r.opts.sources, 1))
	w("hands a port out again as soon as the last connection on it is closed, so the same address pair comes back within milliseconds;\n")
	w("`tlsscope -r` of a `-w` copy of the same traffic, set beside tshark's tcp.stream count, tells the two apart.")
	w("\n\nLoad average (1 min) at the start and the end: %s and %s (the machine is shared: other jobs compete with both tlsscope and the load generator).\n", r.loadStart, r.loadEnd)
	return b.String()
}

// loadAverage is the 1-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]); len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf(", %.0f GiB", kb/1024/1024)
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d CPUs%s, Linux %s, %s", cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

// rewriteSection replaces the section from sectionHeading to the next
// "## " heading (or the end) with text, or appends it; the rest of the
// file is kept as it is.
func rewriteSection(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	var out string
	if i := strings.Index(s, "\n"+sectionHeading+"\n"); i >= 0 || strings.HasPrefix(s, sectionHeading+"\n") {
		start := i + 1
		if i < 0 {
			start = 0
		}
		rest := s[start+len(sectionHeading):]
		tail := ""
		if j := strings.Index(rest, "\n## "); j >= 0 {
			tail = rest[j+1:]
		}
		out = s[:start] + text
		if tail != "" {
			out += "\n" + tail
		}
	} else {
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		if s != "" {
			s += "\n"
		}
		out = s + text
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
