// Command tlsscope reads packet captures (or a live interface) and reports
// whether the TLS in them is actually secure: versions, suites,
// certificates, fingerprints, failed handshakes and secrets sent in the
// clear. Run tlsscope --help for usage.
//
// main only parses the command line and exits; everything else is in run,
// which tests call directly.
package main

import (
	"os"

	_ "github.com/tlsscope/tlsscope/report/html" // the html format
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
