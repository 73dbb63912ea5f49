//go:build unix

package main

import (
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptRemovesOutputFiles: SIGINT during a file run stops it with
// exit 2 and leaves neither the output files nor their hidden
// temporaries, whole-result and streamed outputs alike. The input is
// cert-expired.pcap's packets over and over (a pcap's records after its
// 24-byte header), long enough to be still reading when the signals come.
func TestInterruptRemovesOutputFiles(t *testing.T) {
	b, err := os.ReadFile(pcap(t, "cert-expired.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.pcap")
	long := append([]byte{}, b...)
	for len(long) < 64<<20 {
		long = append(long, b[24:]...)
	}
	if err := os.WriteFile(big, long, 0o644); err != nil {
		t.Fatal(err)
	}
	// The test's own handler keeps a SIGINT sent before run installs
	// its handler from killing the test binary.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGINT)
	defer signal.Stop(sigs)
	for _, format := range []string{"json", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			var stderr strings.Builder
			done := make(chan int)
			go func() {
				done <- run([]string{"-q", "--format", format, "-o", filepath.Join(dir, "out."+format), big}, io.Discard, &stderr)
			}()
			var code int
		wait:
			for deadline := time.Now().Add(30 * time.Second); ; {
				select {
				case code = <-done:
					break wait
				case <-time.After(20 * time.Millisecond):
					if time.Now().After(deadline) {
						t.Fatal("the run did not stop on SIGINT")
					}
					syscall.Kill(os.Getpid(), syscall.SIGINT)
				}
			}
			if code != exitUsage || !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("exit %d, stderr %q; want %d and an interrupted message", code, stderr.String(), exitUsage)
			}
			left, _ := os.ReadDir(dir)
			for _, e := range left {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}
