package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// readmeCommands is what each command of the README's "Using it" block
// must do when its placeholder files are real captures (readmeFixtures):
// its exit status (README "Exit codes": 0 success, 1 a finding at or
// above --fail-on) and the files it must leave. A line the README gains
// must be added here.
var readmeCommands = map[string]struct {
	code  int
	files []string
	skip  string
}{
	"tlsscope capture.pcap":                                               {code: 0},
	"tlsscope -r a.pcapng -r b.pcap.gz captures/":                         {code: 0},
	"tlsscope -f 'tcp port 443 or tcp port 8443' trace.pcap":              {code: 0},
	`tlsscope --format ndjson trace.pcap | jq 'select(.type=="finding")'`: {code: 0},
	// cert-expired.pcap's cert-expired is high (manifest.json): the gate fails.
	"tlsscope --fail-on high --format sarif=tlsscope.sarif --format markdown=summary.md ci-traffic.pcapng": {code: 1, files: []string{"tlsscope.sarif", "summary.md"}},
	"tlsscope --ca-file corp-root.pem --check-time now trace.pcap":                                         {code: 0},
	"tlsscope --ladder=api.example.com trace.pcap":                                                         {code: 0},
	"tlsscope --format html=report.html trace.pcap":                                                        {code: 0, files: []string{"report.html"}},
	"sudo tlsscope -i lo -f 'tcp port 8443'":                                                               {skip: "live capture needs root and runs until stopped (TestLiveEndToEnd runs -i lo -f with real handshakes)"},
	"tlsscope baseline trace.pcap -o policy.yaml":                                                          {code: 0, files: []string{"policy.yaml"}},
}

// readmeFixtures are the README's placeholder names and the recorded
// captures that stand for them (testdata/pcaps; .pcapng and .gz made
// from them here). api.example.com is the SNI the ladder asks for: the
// recorded captures ask for localhost.
var readmeFixtures = map[string]string{
	"capture.pcap":      "tls13-openssl.pcap",
	"trace.pcap":        "cert-expired.pcap",
	"a.pcapng":          "tls12-ecdhe-rsa-openssl.pcap",
	"b.pcap.gz":         "http-basic-auth.pcap",
	"captures/a.pcap":   "tls10-openssl.pcap",
	"captures/b.pcap":   "ftp-login.pcap",
	"ci-traffic.pcapng": "cert-expired.pcap",
	"corp-root.pem":     "ca.pem",
}

// TestReadmeCommandsRun runs every command of the README's "Using it"
// block, as a shell runs it (pipes and quotes included), on recorded
// captures standing for its placeholder files, and checks each one's exit
// status and the files it writes.
func TestReadmeCommandsRun(t *testing.T) {
	testToolOnPath(t)
	_, err := exec.LookPath("jq") // one line pipes into jq
	jq := err == nil
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := readmeBlock(t, string(readme), "## Using it")
	seen := 0
	for _, line := range block {
		cmd, _, _ := strings.Cut(line, "  #") // the comment
		cmd = strings.TrimSpace(cmd)
		if cmd == "" {
			continue
		}
		want, ok := readmeCommands[cmd]
		if !ok {
			t.Errorf("README command %q is not in readmeCommands: add its exit status", cmd)
			continue
		}
		seen++
		if want.skip != "" {
			t.Logf("skipped %q: %s", cmd, want.skip)
			continue
		}
		if strings.Contains(cmd, "| jq") && !jq {
			t.Logf("skipped %q: no jq", cmd)
			continue
		}
		dir := readmeWorkDir(t)
		sh := exec.Command("sh", "-c", strings.ReplaceAll(cmd, "api.example.com", "localhost"))
		sh.Dir = dir
		var out bytes.Buffer
		sh.Stdout, sh.Stderr = &out, &out
		err := sh.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if code != want.code {
			t.Errorf("%s: exit %d, want %d:\n%s", cmd, code, want.code, out.String())
		}
		for _, f := range want.files {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: did not write %s (%v)", cmd, f, err)
			}
		}
		if strings.Contains(cmd, "| jq") && !strings.Contains(out.String(), `"type": "finding"`) {
			t.Errorf("%s: no finding selected:\n%s", cmd, out.String())
		}
	}
	if seen != len(readmeCommands) {
		t.Errorf("%d of the %d known commands found in the README's block", seen, len(readmeCommands))
	}
}

// readmeBlock is the first ```sh block after heading.
func readmeBlock(t *testing.T, readme, heading string) []string {
	_, rest, ok := strings.Cut(readme, "\n"+heading+"\n")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("no ```sh block after %q in README.md", heading)
	}
	return strings.Split(block, "\n")
}

// readmeWorkDir is a fresh directory holding readmeFixtures.
func readmeWorkDir(t *testing.T) string {
	dir := t.TempDir()
	for name, src := range readmeFixtures {
		in, err := os.ReadFile(pcap(t, src))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, ".pcapng"):
			in = toPcapng(t, in)
		case strings.HasSuffix(name, ".gz"):
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(in)
			zw.Close()
			in = b.Bytes()
		}
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, in, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// toPcapng rewrites a pcap file as pcapng with gopacket's writer.
func toPcapng(t *testing.T, pcapFile []byte) []byte {
	r, err := pcapgo.NewReader(bytes.NewReader(pcapFile))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		ci.InterfaceIndex = 0
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testToolOnPath puts the test binary on PATH as tlsscope (TestMain
// runs it as the command when it is called by that name).
func testToolOnPath(t *testing.T) {
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "tlsscope")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}
