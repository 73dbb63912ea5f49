package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// dsb is a Decryption Secrets Block of an NSS key log, little-endian.
func dsb(keylog string) []byte {
	pad := (4 - len(keylog)%4) % 4
	n := 20 + len(keylog) + pad
	b := binary.LittleEndian.AppendUint32(nil, blockDSB)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, SecretsTLSKeyLog)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keylog)))
	b = append(b, keylog...)
	b = append(b, make([]byte, pad)...)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// pcapngWith writes a pcapng of three packets with the given blocks at
// the start (before the interface), after the interface, and after the
// second packet.
func pcapngWith(t *testing.T, beforeIDB, afterIDB, middle []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, layers.LinkTypeRaw, 0)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	pkt := func(i int) {
		data := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, byte(i)}
		if err := w.Write(Packet{Data: data, Info: gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Second), CaptureLength: 20, Length: 20}, LinkType: layers.LinkTypeRaw}); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	head := bytes.Clone(buf.Bytes()) // SHB + IDB
	buf.Reset()
	pkt(1)
	pkt(2)
	w.Flush()
	two := bytes.Clone(buf.Bytes())
	buf.Reset()
	pkt(3)
	w.Flush()
	three := buf.Bytes()
	shbLen := binary.LittleEndian.Uint32(head[4:8])
	var out []byte
	out = append(out, head[:shbLen]...)
	out = append(out, beforeIDB...)
	out = append(out, head[shbLen:]...)
	out = append(out, afterIDB...)
	out = append(out, two...)
	out = append(out, middle...)
	out = append(out, three...)
	return out
}

func readSecrets(t *testing.T, data []byte, late bool) (got []string, packets int, anomalies []string) {
	t.Helper()
	f, err := NewReader(bytes.NewReader(data), "test.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	f.OnAnomaly = func(a Anomaly) { anomalies = append(anomalies, a.Kind+": "+a.Detail) }
	f.OnSecrets = func(s Secrets) {
		if s.Type != SecretsTLSKeyLog {
			t.Errorf("type %#x", s.Type)
		}
		got = append(got, string(s.Data)+"@"+string(rune('0'+packets)))
	}
	for {
		_, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
	}
	return got, packets, anomalies
}

// Secrets blocks are handed on wherever they are, before the packets that
// follow them, once each.
func TestSecretsBlocks(t *testing.T) {
	data := pcapngWith(t, dsb("A\n"), dsb("BB\n"), append(dsb("CCC\n"), dsb("DDDD\n")...))
	got, n, an := readSecrets(t, data, false)
	if strings.Join(got, " ") != "A\n@0 BB\n@0 CCC\n@2 DDDD\n@2" || n != 3 || len(an) != 0 {
		t.Errorf("got %q, %d packets, anomalies %v", got, n, an)
	}
	// Read through pcapgo's path too: the same file gzip'd.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(data)
	zw.Close()
	gz := zb.Bytes()
	got, n, _ = readSecrets(t, gz, false)
	if strings.Join(got, " ") != "A\n@0 BB\n@0 CCC\n@2 DDDD\n@2" || n != 3 {
		t.Errorf("gzip: got %q, %d packets", got, n)
	}
}

// A block bigger than the read buffer is read through.
func TestBigSecretsBlock(t *testing.T) {
	big := strings.Repeat("CLIENT_RANDOM x y\n", (readBufferSize/18)+100)
	data := pcapngWith(t, nil, nil, dsb(big))
	p := filepath.Join(t.TempDir(), "big.pcapng")
	os.WriteFile(p, data, 0o644)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sizes []int
	f.OnSecrets = func(s Secrets) { sizes = append(sizes, len(s.Data)) }
	n := 0
	for {
		if _, err := f.Next(); err != nil {
			break
		}
		n++
	}
	if n != 3 || len(sizes) != 1 || sizes[0] != len(big) {
		t.Errorf("%d packets, secrets %v (want one of %d)", n, sizes, len(big))
	}
}

func TestDamagedSecretsBlock(t *testing.T) {
	b := dsb("KEYS\n")
	binary.LittleEndian.PutUint32(b[12:], 1000) // secrets length past the block
	got, n, an := readSecrets(t, pcapngWith(t, nil, b, nil), false)
	if len(got) != 0 || n != 3 || len(an) != 1 || !strings.HasPrefix(an[0], AnomalySecretsSkipped) {
		t.Errorf("got %q, %d packets, anomalies %v", got, n, an)
	}
}
