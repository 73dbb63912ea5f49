package quic

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Frame types an Initial packet may carry (RFC 9000, 12.4 and 19).
const (
	framePadding          = 0x00
	framePing             = 0x01
	frameAck              = 0x02
	frameAckECN           = 0x03
	frameCrypto           = 0x06
	frameConnectionClose  = 0x1c // QUIC layer
	frameApplicationClose = 0x1d // application layer
)

// maxCloseReason is how much of a CONNECTION_CLOSE reason phrase is kept;
// the rest is cut (the close is still recorded).
const maxCloseReason = 256

var errFrame = errors.New("frame truncated")

// errUnexpectedFrame is a frame type this package does not read in an
// Initial packet: the rest of the packet is skipped.
type errUnexpectedFrame uint64

func (e errUnexpectedFrame) Error() string {
	return fmt.Sprintf("frame type %#x not read in an Initial packet; rest of the packet skipped", uint64(e))
}

// Close is a CONNECTION_CLOSE frame (RFC 9000, 19.19).
type Close struct {
	Application bool   // type 0x1d: an application error code
	Code        uint64 // error code (RFC 9000, 20; a TLS alert is 0x0100 + its description, 20.1)
	FrameType   uint64 // type 0x1c: the frame that triggered it
	Reason      string // the reason phrase, at most maxCloseReason bytes
}

// frameHandler receives the frames of one packet that matter here.
type frameHandler interface {
	crypto(offset uint64, data []byte)
	close(c Close)
}

// parseFrames reads the frames of a decrypted Initial packet in order
// (RFC 9000, 19), giving CRYPTO and CONNECTION_CLOSE frames to h. It
// stops at the first frame that does not parse (errFrame) or that it does
// not read (errUnexpectedFrame); frames before it have been handled.
func parseFrames(b []byte, h frameHandler) error {
	s := cryptobyte.String(b)
	for !s.Empty() {
		var typ uint64
		if !readVarint(&s, &typ) {
			return errFrame
		}
		switch typ {
		case framePadding:
			// RFC 9000, 19.1: a run of zero bytes.
			for len(s) > 0 && s[0] == 0 {
				s = s[1:]
			}
		case framePing:
			// RFC 9000, 19.2: no content.
		case frameAck, frameAckECN:
			// RFC 9000, 19.3
			var largest, delay, count, first uint64
			if !readVarint(&s, &largest) || !readVarint(&s, &delay) ||
				!readVarint(&s, &count) || !readVarint(&s, &first) {
				return errFrame
			}
			// Each range is at least two bytes: a count beyond what is
			// left fails without looping over it.
			if count > uint64(len(s))/2 {
				return errFrame
			}
			for i := uint64(0); i < count; i++ {
				var gap, length uint64
				if !readVarint(&s, &gap) || !readVarint(&s, &length) {
					return errFrame
				}
			}
			if typ == frameAckECN {
				var ect0, ect1, ce uint64
				if !readVarint(&s, &ect0) || !readVarint(&s, &ect1) || !readVarint(&s, &ce) {
					return errFrame
				}
			}
		case frameCrypto:
			// RFC 9000, 19.6
			var off, n uint64
			if !readVarint(&s, &off) || !readVarint(&s, &n) || n > uint64(len(s)) {
				return errFrame
			}
			var data []byte
			s.ReadBytes(&data, int(n))
			h.crypto(off, data)
		case frameConnectionClose, frameApplicationClose:
			// RFC 9000, 19.19
			c := Close{Application: typ == frameApplicationClose}
			if !readVarint(&s, &c.Code) {
				return errFrame
			}
			if !c.Application && !readVarint(&s, &c.FrameType) {
				return errFrame
			}
			var n uint64
			if !readVarint(&s, &n) || n > uint64(len(s)) {
				return errFrame
			}
			var reason []byte
			s.ReadBytes(&reason, int(n))
			c.Reason = string(reason[:min(len(reason), maxCloseReason)])
			h.close(c)
		default:
			return errUnexpectedFrame(typ)
		}
	}
	return nil
}
