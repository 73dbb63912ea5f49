package tlsscopetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
)

// scriptConn is a net.Conn whose reads return the chunks queued for them
// and whose writes go nowhere.
type scriptConn struct {
	net.Conn // nil: only the methods below are called
	reads    [][]byte
}

func (c *scriptConn) Read(b []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.reads[0])
	c.reads[0] = c.reads[0][n:]
	if len(c.reads[0]) == 0 {
		c.reads = c.reads[1:]
	}
	return n, nil
}
func (c *scriptConn) Write(b []byte) (int, error) { return len(b), nil }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}
}

// play runs ops on one client connection recorded by r: each op is 3
// bytes, a direction (low bit of the first) and a length (big-endian
// uint16) of bytes written (to the server) or read (from it). It returns
// the bytes sent each way.
func play(r *Recorder, ops []byte) (sent [2]int64) {
	sc := &scriptConn{}
	c := r.wrap(sc, false)
	buf := make([]byte, 1<<16)
	for ; len(ops) >= 3; ops = ops[3:] {
		n := int(binary.BigEndian.Uint16(ops[1:]))
		if ops[0]&1 == toServer {
			c.Write(buf[:n])
		} else {
			sc.reads = append(sc.reads, make([]byte, n))
			for len(sc.reads) > 0 {
				c.Read(buf)
			}
		}
		sent[ops[0]&1] += int64(n)
	}
	c.Read(buf) // io.EOF: the server closed
	c.Close()
	return sent
}

// checkAccounting: what a recording keeps never passes MaxBytes, and
// every byte sent is either in the pcapng (as the decoder counts its
// payload) or counted as lost.
func checkAccounting(t *testing.T, r *Recorder, sent [2]int64) {
	t.Helper()
	if r.used > r.max() {
		t.Errorf("kept %d bytes, MaxBytes %d", r.used, r.max())
	}
	if int64(len(r.events))*eventCost > r.max()+2*eventCost { // + the FINs, never refused
		t.Errorf("%d events kept under MaxBytes %d", len(r.events), r.max())
	}
	res, err := r.Result()
	var lost int64
	var te *TruncatedError
	switch {
	case errors.As(err, &te):
		lost = te.Bytes
	case err != nil:
		t.Fatal(err)
	}
	var decoded int64
	for _, c := range res.Captures[0].Connections {
		decoded += int64(c.Bytes[0] + c.Bytes[1])
	}
	if total := sent[0] + sent[1]; decoded+lost != total {
		t.Errorf("%d bytes decoded + %d lost, %d sent", decoded, lost, total)
	}
	// The pcapng itself reads without damage.
	var b bytes.Buffer
	if err := r.WritePcapng(&b); err != nil {
		t.Fatal(err)
	}
	f, err := capture.NewReader(&b, "recording")
	if err != nil {
		t.Fatal(err)
	}
	f.OnAnomaly = func(a capture.Anomaly) { t.Errorf("capture anomaly %s: %s", a.Kind, a.Detail) }
	for {
		if _, err := f.Next(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
}

// TestHostileSizes: a flood of one-byte writes and one write of 8 MiB,
// both far past MaxBytes, keep no more than MaxBytes (bookkeeping
// included) and lose nothing without counting it.
func TestHostileSizes(t *testing.T) {
	const maxBytes = 256 << 10
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc

	r := &Recorder{MaxBytes: maxBytes}
	r.Config.NoSystemRoots = true // no certificates here; New is faster without the store
	ops := bytes.Repeat([]byte{toServer, 0, 1}, 200_000)
	sent := play(r, ops)
	c := r.wrap(&scriptConn{}, true) // another connection (the other side's addresses)
	for range 128 {
		c.Write(make([]byte, 64<<10))
		sent[toClient] += 64 << 10
	}
	c.Close()

	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapAlloc) - int64(before); grown > 4*maxBytes {
		t.Errorf("heap grew by %d bytes recording with MaxBytes %d", grown, maxBytes)
	}
	checkAccounting(t, r, sent)
	runtime.KeepAlive(r)
}

// FuzzRecorder: any sequence of reads and writes under any MaxBytes keeps
// the accounting (checkAccounting) and gives a pcapng that reads cleanly.
func FuzzRecorder(f *testing.F) {
	f.Add(uint16(0), []byte{0, 0, 5, 1, 0x10, 0, 0, 0, 1})
	f.Add(uint16(300), []byte{0, 0x05, 0xb4, 1, 0x05, 0xb5, 0, 0xff, 0xff})
	f.Add(uint16(64), []byte{1, 0, 1})
	f.Fuzz(func(t *testing.T, maxBytes uint16, ops []byte) {
		if len(ops) > 3*64 {
			ops = ops[:3*64]
		}
		r := &Recorder{MaxBytes: int64(maxBytes)}
		r.Config.NoSystemRoots = true
		checkAccounting(t, r, play(r, ops))
	})
}
