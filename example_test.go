package tlsscope_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Analyse a capture whole and print, per connection, its SNI and the ids
// of its findings. testdata/pcaps/cert-expired.pcap is an OpenSSL server
// whose certificate, issued by the bundled test CA, had expired when the
// capture was made (testdata/pcaps/README).
func Example() {
	a, err := tlsscope.New(tlsscope.Config{CAFiles: []string{"testdata/pcaps/ca.pem"}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := a.AnalyzeFile(context.Background(), "testdata/pcaps/cert-expired.pcap")
	if err != nil {
		log.Fatal(err)
	}
	c := res.Captures[0]
	for _, conn := range c.Connections {
		fmt.Println(conn.Server.Port(), conn.SNI(), tls.VersionName(conn.TLS.Version))
	}
	for _, f := range c.Findings {
		fmt.Println(f.Severity, f.ID)
	}
	// Output:
	// 21428 localhost TLS 1.2
	// high cert-expired
}

// counter is a Sink that counts connections and findings as they close.
type counter struct{ conns, findings int }

func (k *counter) Connection(c *facts.Connection, fs []facts.Finding) error {
	k.conns++
	k.findings += len(fs)
	return nil
}

// Stream a capture through a Sink of your own, keeping nothing: the way
// to read a capture of any size, or a live interface (capture/live's
// Handle is a Source too). Filter and selection work as on the command
// line.
func ExampleAnalyzer_Run() {
	a, err := tlsscope.New(tlsscope.Config{Filter: "tcp port 21446", Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	src, err := tlsscope.OpenFile("testdata/pcaps/http-basic-auth.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	var k counter
	c, err := a.Run(context.Background(), src, &k)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.conns, "connection,", k.findings, "finding,", c.Stats.Packets, "packets")
	// Output: 1 connection, 1 finding, 12 packets
}
