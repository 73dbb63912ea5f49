package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// RFC 9001, A.1: the client's Initial secrets from DCID 0x8394c8f03e515708.
func TestExpandLabelQUICInitialVector(t *testing.T) {
	secret, _ := hex.DecodeString("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
	for _, tc := range []struct {
		label string
		n     int
		want  string
	}{
		{"quic key", 16, "1f369613dd76d5467730efcbe3b1a22d"},
		{"quic iv", 12, "fa044b2f42a3fd3b46fb255c"},
		{"quic hp", 16, "9f50449e04a0e810283a1e9933adedd2"},
	} {
		got, err := ExpandLabel(sha256.New, secret, tc.label, nil, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s = %x, want %s", tc.label, got, tc.want)
		}
	}
}
