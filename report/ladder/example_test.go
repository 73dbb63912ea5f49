package ladder_test

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/report/ladder"
)

// A refused handshake drawn for a terminal 72 columns wide, with the
// finding the rules attached to the alert.
func ExampleWrite() {
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	c := &facts.Connection{
		ID: 4, Capture: "refused.pcap", Protocol: "tls", Closed: "fin",
		Client: netip.MustParseAddrPort("10.0.0.5:50000"), Server: netip.MustParseAddrPort("10.0.0.9:443"),
		First: t0, Last: t0.Add(900 * time.Microsecond),
		TLS: &tls.Session{
			ClientHello: &tls.ClientHello{LegacyVersion: 0x0303, ServerName: "api.example.com", CipherSuites: []uint16{0x002f, 0x0035},
				SupportedVersions: []uint16{0x0303}},
			Alerts: []tls.Alert{{From: tls.ServerToClient, Level: 2, Description: 40, Time: t0.Add(600 * time.Microsecond)}},
			Events: []tls.Event{
				{Time: t0.Add(100 * time.Microsecond), From: tls.ClientToServer, Content: 22, Handshake: 1},
				{Time: t0.Add(600 * time.Microsecond), From: tls.ServerToClient, Content: 21},
			},
		},
	}
	findings := []facts.Finding{{ID: "handshake-failed", Severity: facts.Medium, ConnID: 4, Step: facts.StepAlert,
		Message: "handshake failed: fatal alert handshake_failure from the server"}}
	ladder.Write(os.Stdout, c, findings, ladder.Options{Width: 72})
	// Output:
	// connection #4 10.0.0.5:50000 -> 10.0.0.9:443 (api.example.com)
	// [refused.pcap]
	// alert handshake_failure
	//
	//              client                                               server
	//   +0.000 ms  |--- ClientHello ---------------------------------------->|
	//              |  offers TLS 1.2; 2 suites                               |
	//              |  SNI api.example.com                                    |
	//   +0.500 ms  |<---------------------- Alert fatal handshake_failure ---|
	//              |  ! handshake-failed (medium): handshake failed: fatal   |
	//              |  alert handshake_failure from the server                |
	//
	// closed (FIN) at +0.800 ms
}

func ExampleSelect() {
	conns := []*facts.Connection{
		{ID: 1, Client: netip.MustParseAddrPort("10.0.0.5:50000"), Server: netip.MustParseAddrPort("10.0.0.9:443"),
			TLS: &tls.Session{ClientHello: &tls.ClientHello{ServerName: "api.example.com"}}},
		{ID: 2, Client: netip.MustParseAddrPort("10.0.0.5:50001"), Server: netip.MustParseAddrPort("10.0.0.7:443")},
	}
	for _, q := range []string{"#2", "*.example.com", "10.0.0.5", "10.0.0.9:443"} {
		sel, _ := ladder.Select(conns, q)
		fmt.Print(q, ":")
		for _, c := range sel {
			fmt.Print(" #", c.ID)
		}
		fmt.Println()
	}
	// Output:
	// #2: #2
	// *.example.com: #1
	// 10.0.0.5: #1 #2
	// 10.0.0.9:443: #1
}
