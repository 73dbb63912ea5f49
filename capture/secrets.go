package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Secrets is a pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng,
// 4.7): keys a capture carries for the traffic in it, as Wireshark's
// editcap --inject-secrets and capture.PcapngWriter.WriteKeyLog write
// them.
type Secrets struct {
	// Type is the secrets type: SecretsTLSKeyLog for an NSS key log;
	// others (WireGuard, ZigBee, OPC UA) are handed on as they are.
	Type uint32
	// Data is the secrets, without the block's padding; valid only during
	// the call.
	Data []byte
	// Offset is the block's offset in the capture stream.
	Offset int64
}

// SecretsTLSKeyLog is the secrets type of an NSS key log (SSLKEYLOGFILE
// lines), "TLSK".
const SecretsTLSKeyLog = 0x544c534b

const (
	blockDSB = 0x0000000a
	// maxSecretsBlock bounds a Decryption Secrets Block that is read: a
	// key log of a hundred thousand TLS 1.3 connections. A longer one is
	// skipped (anomaly capture_secrets_skipped).
	maxSecretsBlock = 64 << 20
)

// AnomalySecretsSkipped: a Decryption Secrets Block that cannot be read
// (longer than maxSecretsBlock, or with a secrets length past its end) is
// skipped; the packets around it are read as usual.
const AnomalySecretsSkipped = "capture_secrets_skipped"

// secretsBlock reads a Decryption Secrets Block's body (after the block
// type and length, before the trailing length): secrets type, secrets
// length, the secrets, options.
func (f *File) secretsBlock(body []byte, order binary.ByteOrder, pos int64) {
	b := wire{b: body, order: order}
	var typ, n uint32
	var data []byte
	if !b.u32(&typ) || !b.u32(&n) || !b.bytes(&data, uint64(n)) {
		f.anomaly(AnomalySecretsSkipped, pos, fmt.Sprintf("decryption secrets block of %d bytes claims %d bytes of secrets", len(body)+12, n))
		return
	}
	f.secrets(Secrets{Type: typ, Data: data, Offset: pos})
}

// secrets hands a block on, or keeps a copy until OnSecrets is set.
func (f *File) secrets(s Secrets) {
	if f.OnSecrets == nil {
		s.Data = append([]byte(nil), s.Data...)
		f.heldSecrets = append(f.heldSecrets, s)
		return
	}
	f.flushSecrets()
	f.OnSecrets(s)
}

// flushSecrets hands on the blocks read before OnSecrets was set.
func (f *File) flushSecrets() {
	if f.OnSecrets == nil || len(f.heldSecrets) == 0 {
		return
	}
	held := f.heldSecrets
	f.heldSecrets = nil
	for _, s := range held {
		f.OnSecrets(s)
	}
}

// readSecretsBlock reads a Decryption Secrets Block that is first in line
// and consumes it: from the read buffer when it fits there, else read
// through (they are rarely more than a few kilobytes).
func (f *File) readSecretsBlock(blen uint64, pos int64, order binary.ByteOrder) error {
	if blen > maxSecretsBlock {
		f.anomaly(AnomalySecretsSkipped, pos, fmt.Sprintf("decryption secrets block of %d bytes, more than the %d read", blen, maxSecretsBlock))
		return f.skipBlock(blen, pos, blockDSB)
	}
	var blk []byte
	if blen <= uint64(f.src.Size()) {
		b, err := f.src.Peek(int(blen))
		if uint64(len(b)) < blen {
			if err != nil && err != io.EOF && isIOError(err) {
				return readError(f.name, err)
			}
			return f.skipBlock(blen, pos, blockDSB) // cut: reported there
		}
		blk = b
	} else {
		blk = make([]byte, blen)
		n, err := io.ReadFull(f.src, blk)
		if uint64(n) < blen {
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && isIOError(err) {
				return readError(f.name, err)
			}
			return f.end(AnomalyTruncated, pos, fmt.Sprintf("the file ends inside a block of type %#x after packet %d", blockDSB, f.packets), io.ErrUnexpectedEOF)
		}
		blen = 0 // consumed
	}
	var end uint32
	w := wire{b: blk[len(blk)-4:], order: order}
	w.u32(&end)
	if uint64(end) == uint64(len(blk)) {
		f.secretsBlock(blk[8:len(blk)-4], order, pos)
	} else {
		f.anomaly(AnomalySecretsSkipped, pos, fmt.Sprintf("decryption secrets block has length %d at its start but %d at its end", len(blk), end))
	}
	if blen == 0 {
		return nil
	}
	return f.skipBlock(blen, pos, blockDSB)
}

// skipBlock consumes a block that is first in line.
func (f *File) skipBlock(blen uint64, pos int64, typ uint32) error {
	n, err := f.discard(blen)
	if n < blen {
		if err != nil && err != io.EOF && isIOError(err) {
			return readError(f.name, err)
		}
		return f.end(AnomalyTruncated, pos, fmt.Sprintf("the file ends inside a block of type %#x after packet %d", typ, f.packets), err)
	}
	return nil
}
