package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/tlsscope/tlsscope/decode/tls"
)

// TestJA3ReadmeExample is the worked example of salesforce/ja3's README:
// "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
// -> ada70206e40642a3e4461f35503241d5.
func TestJA3ReadmeExample(t *testing.T) {
	ch := &tls.ClientHello{
		LegacyVersion:   769,
		CipherSuites:    []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
		Extensions:      []uint16{0, 10, 11},
		SupportedGroups: []uint16{23, 24, 25},
		ECPointFormats:  []uint8{0},
	}
	hash, full := JA3(ch)
	if want := "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"; full != want {
		t.Errorf("JA3 string = %s, want %s", full, want)
	}
	if want := "ada70206e40642a3e4461f35503241d5"; hash != want {
		t.Errorf("JA3 = %s, want %s", hash, want)
	}
}

func TestJA3GREASEAndEmptyLists(t *testing.T) {
	ch := &tls.ClientHello{
		LegacyVersion:   0x0303,
		CipherSuites:    []uint16{0x8a8a, 0x1301, 0xc02b},
		Extensions:      []uint16{0x0a0a, 0, 10, 0xfafa},
		SupportedGroups: []uint16{0x4a4a, 29},
	}
	hash, full := JA3(ch)
	if want := "771,4865-49195,0-10,29,"; full != want {
		t.Errorf("JA3 string = %q, want %q", full, want)
	}
	sum := md5.Sum([]byte(full))
	if hash != hex.EncodeToString(sum[:]) {
		t.Errorf("JA3 hash %s is not the MD5 of %q", hash, full)
	}
	if h, f := JA3(&tls.ClientHello{SSLv2: true, LegacyVersion: 2}); h != "" || f != "" {
		t.Errorf("SSLv2 ClientHello: JA3 = %q %q, want empty (as tshark)", h, f)
	}
}

func TestJA3S(t *testing.T) {
	// suricata-verify tests/tls/tls-ja3s/test.yaml: "771,49199,65281-0-11-16-23"
	// -> 5d79edf64e03689ff559a54e9d9487bc.
	sh := &tls.ServerHello{LegacyVersion: 771, CipherSuite: 49199, Extensions: []uint16{65281, 0, 11, 16, 23}}
	hash, full := JA3S(sh)
	if full != "771,49199,65281-0-11-16-23" || hash != "5d79edf64e03689ff559a54e9d9487bc" {
		t.Errorf("JA3S = %s %s", hash, full)
	}
	// tshark's ja3s_full for a ServerHello without extensions
	// (suricata-verify sslv2-tls-upgrade-01 oracle): "769,57,".
	if _, full := JA3S(&tls.ServerHello{LegacyVersion: 769, CipherSuite: 57}); full != "769,57," {
		t.Errorf("JA3S string without extensions = %q", full)
	}
	// The SSLv2 SERVER-HELLO of zeek ssl-v2.pcap (oracle frame 8): tshark
	// gives no JA3S.
	if h, f := JA3S(&tls.ServerHello{LegacyVersion: 0x0002, SSLv2CipherKind: 0x0700c0}); h != "" || f != "" {
		t.Errorf("SSLv2 SERVER-HELLO: JA3S = %q %q, want empty", h, f)
	}
}
