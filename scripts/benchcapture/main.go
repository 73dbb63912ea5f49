// Command benchcapture records a benchmark capture on loopback: many real
// Go crypto/tls 1.2 and 1.3 connections and plain HTTP connections, carried
// in frames of at most 1514 bytes (lo's MTU lowered to 1500 and
// segmentation offload turned off while recording), written by tcpdump.
//
//	go run ./scripts/benchcapture -o /tmp/bench.pcap -n 20000
//
// It needs root (tcpdump on lo, ip link, ethtool) and sends traffic only to
// 127.0.0.1.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "bench.pcap", "capture file to write")
	n := flag.Int("n", 20000, "connections")
	size := flag.Int("size", 36<<10, "mean response bytes per connection")
	httpShare := flag.Float64("http", 0.25, "share of plain HTTP connections")
	conc := flag.Int("c", 8, "connections at once")
	flag.Parse()
	if err := run(*out, *n, *size, *httpShare, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "benchcapture:", err)
		os.Exit(1)
	}
}

func run(out string, n, size int, httpShare float64, conc int) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	body := make([]byte, 4*size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("n"))
		k = min(max(k, 0), len(body))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(k))
		w.Write(body[:k])
	})
	tlsLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(tlsLn)
	go (&http.Server{Handler: handler}).Serve(plainLn)
	tlsPort := tlsLn.Addr().(*net.TCPAddr).Port
	plainPort := plainLn.Addr().(*net.TCPAddr).Port

	restore, err := shapeLoopback()
	if err != nil {
		return err
	}
	defer restore()

	dump := exec.Command("tcpdump", "-i", "lo", "-s", "0", "-B", "262144", "-U", "-w", out,
		fmt.Sprintf("tcp port %d or tcp port %d", tlsPort, plainPort))
	stderr, _ := dump.StderrPipe()
	if err := dump.Start(); err != nil {
		return fmt.Errorf("starting tcpdump: %w", err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "listening on") {
			break
		}
	}
	var tail strings.Builder
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
			tail.WriteString(sc.Text() + "\n")
		}
		close(done)
	}()

	start := time.Now()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				// Sizes spread around the mean, deterministic per connection.
				k := size/2 + int(i*7919%int64(size))
				var err error
				switch {
				case float64(i%100) < httpShare*100:
					err = get(fmt.Sprintf("http://127.0.0.1:%d/?n=%d", plainPort, k), nil)
				case i%2 == 0:
					err = get(fmt.Sprintf("https://127.0.0.1:%d/?n=%d", tlsPort, k), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ServerName: "bench.test"})
				default:
					err = get(fmt.Sprintf("https://127.0.0.1:%d/?n=%d", tlsPort, k), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, ServerName: "bench.test"})
				}
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	dump.Process.Signal(syscall.SIGINT)
	<-done
	dump.Wait()
	fmt.Fprintf(os.Stderr, "benchcapture: %d connections (%d failed) in %v\n%s", n, failed.Load(), time.Since(start).Round(time.Millisecond), tail.String())
	if failed.Load() > 0 {
		return errors.New("some connections failed")
	}
	return nil
}

// get makes one request on a new connection and reads the whole response.
func get(url string, tc *tls.Config) error {
	tr := &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// shapeLoopback lowers lo's MTU to 1500 and turns off segmentation offload,
// so frames look like a real link's; the returned func restores both.
func shapeLoopback() (func(), error) {
	mtu := "65536"
	if b, err := os.ReadFile("/sys/class/net/lo/mtu"); err == nil {
		mtu = strings.TrimSpace(string(b))
	}
	if err := exec.Command("ip", "link", "set", "lo", "mtu", "1500").Run(); err != nil {
		return nil, fmt.Errorf("lowering lo's MTU (needs root): %w", err)
	}
	// Remember each offload's state to put it back as it was.
	var back []string
	if b, err := exec.Command("ethtool", "-k", "lo").Output(); err == nil {
		for _, f := range []struct{ short, long string }{
			{"tso", "tcp-segmentation-offload"}, {"gso", "generic-segmentation-offload"}, {"gro", "generic-receive-offload"},
		} {
			if i := strings.Index(string(b), f.long+": "); i >= 0 {
				state := strings.Fields(string(b)[i+len(f.long)+2:])[0]
				back = append(back, f.short, state)
			}
		}
		exec.Command("ethtool", "-K", "lo", "tso", "off", "gso", "off", "gro", "off").Run()
	}
	return func() {
		exec.Command("ip", "link", "set", "lo", "mtu", mtu).Run()
		if len(back) > 0 {
			exec.Command("ethtool", append([]string{"-K", "lo"}, back...)...).Run()
		}
	}, nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bench.test"},
		DNSNames:     []string{"bench.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
