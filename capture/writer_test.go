package capture_test

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestPcapngFileKeepsEveryLinkType: packets of an Ethernet capture and of
// a BSD-loopback (DLT_NULL) capture written into one PcapngFile (-w over
// several inputs) read back, by tshark, as the same frames in the same
// order, each with its own link type.
func TestPcapngFileKeepsEveryLinkType(t *testing.T) {
	corpus := testutil.Corpus(t)
	ins := []string{
		filepath.Join(testutil.Pcaps(t), "tls13-go.pcap"),
		filepath.Join(corpus, "ja4/pcap/tls-alpn-h2.pcap"), // DLT_NULL
		filepath.Join(testutil.Pcaps(t), "http-basic-auth.pcap"),
	}
	out := filepath.Join(t.TempDir(), "both.pcapng")
	w, err := capture.CreatePcapng(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []frame
	for _, in := range ins {
		f, err := capture.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		want = append(want, tsharkFrames(t, in)...)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := tsharkFrames(t, out)
	if len(want) < 30 {
		t.Fatalf("only %d frames in the inputs", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("tshark reads %d frames from the copy, %d from the inputs\ncopy:   %v\ninputs: %v", len(got), len(want), got, want)
	}
}
