package capture

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/gopacket/gopacket/layers"
)

// Kinds of Error, for errors.Is. Every one of them is the input's fault
// (the CLI maps them to its "bad input" exit code); ErrRead is also used
// for I/O errors, which wrap the os error as well.
var (
	ErrNotCapture          = errors.New("not a capture file")
	ErrEmpty               = errors.New("empty file")
	ErrDirectory           = errors.New("is a directory")
	ErrTruncated           = errors.New("truncated capture header")
	ErrUnsupportedLinkType = errors.New("unsupported link type")
	ErrRead                = errors.New("cannot read capture file")
)

// Error is a capture file that cannot be read. Error() is one line for the
// user: the file name and what is wrong with it.
type Error struct {
	Path string
	Kind error  // one of the Err* sentinels
	Err  error  // the underlying cause, if any (an *fs.PathError, a pcapgo error)
	Msg  string // what is wrong, for the user
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// Unwrap gives errors.Is both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func openError(path string, err error) error {
	return &Error{Path: path, Kind: ErrRead, Err: err, Msg: "cannot open: " + describeOSError(err)}
}

func readError(path string, err error) error {
	return &Error{Path: path, Kind: ErrRead, Err: err, Msg: "cannot read: " + describeOSError(err)}
}

// describeOSError says what an os error means, with a hint where one helps.
func describeOSError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (check the file's permissions, or run as a user who may read it)"
	case errors.Is(err, syscall.EISDIR):
		return "is a directory"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// isGzipDamage reports whether err is the gzip stream's own fault (bad
// checksum, corrupt deflate data) rather than an I/O error.
func isGzipDamage(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce)
}

// isIOError reports whether err came from the operating system.
func isIOError(err error) bool {
	var pe *fs.PathError
	var se syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &se) || errors.Is(err, os.ErrClosed)
}

func gzipError(name string, err error) error {
	if isIOError(err) {
		return readError(name, err)
	}
	return &Error{Path: name, Kind: ErrNotCapture, Err: err, Msg: "is a damaged gzip file: " + err.Error()}
}

// streamError is an error while reading the file header.
func (f *File) streamError(err error) error {
	if isIOError(err) {
		return readError(f.name, err)
	}
	if isGzipDamage(err) {
		return gzipError(f.name, err)
	}
	return &Error{Path: f.name, Kind: ErrTruncated, Err: err, Msg: "has a damaged or truncated file header: " + err.Error()}
}

// notCapture says what the first bytes of a file look like.
func notCapture(name string, gz bool, head []byte) error {
	what := "is not a capture file (pcap or pcapng)"
	if gz {
		what = "is a gzip of something other than a capture file"
	}
	return &Error{Path: name, Kind: ErrNotCapture, Msg: what + ": " + describeBytes(head)}
}

// magics of common non-capture files, to tell the user what they gave us.
var magics = []struct{ magic, what string }{
	{"\x1f\x8b", "gzip data"},
	{"BZh", "bzip2 data (decompress it first: bunzip2)"},
	{"\xfd7zXZ\x00", "xz data (decompress it first: unxz)"},
	{"\x28\xb5\x2f\xfd", "zstd data (decompress it first: unzstd)"},
	{"PK\x03\x04", "a zip archive (extract it first)"},
	{"\x7fELF", "an ELF executable"},
	{"%PDF", "a PDF document"},
	{"snoop\x00\x00\x00", "a Solaris snoop capture (convert it: editcap -F pcap IN OUT)"},
	{"GMBU", "a Microsoft Network Monitor capture (convert it: editcap -F pcap IN OUT)"},
	{"XCP\x00", "a NetXRay/Sniffer capture (convert it: editcap -F pcap IN OUT)"},
}

// describeBytes names the first bytes of a file: a known format, text, or
// the bytes in hex.
func describeBytes(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	for _, m := range magics {
		if strings.HasPrefix(string(b), m.magic) {
			return "it looks like " + m.what
		}
	}
	if looksText(b) {
		s := strings.TrimSpace(string(b))
		if strings.HasPrefix(s, "<") {
			return fmt.Sprintf("it looks like HTML or XML text (starts %q)", s)
		}
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			return fmt.Sprintf("it looks like JSON text (starts %q)", s)
		}
		return fmt.Sprintf("it looks like text (starts %q)", s)
	}
	return fmt.Sprintf("its first bytes are % x", b)
}

func looksText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(trimPartialRune(b)) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
		if c == 0x7f {
			return false
		}
	}
	return true
}

// trimPartialRune drops a UTF-8 sequence cut by the 16-byte window.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// SupportedLinkType reports whether decode can read packets of link type
// lt. It is the set in decode/flow: Ethernet, Linux SLL and SLL2, BSD
// Null and OpenBSD Loop, raw IP (101, and 12 and 14 as some systems number
// DLT_RAW), raw IPv4 (228), raw IPv6 (229), PPP (9), 802.11 (105), 802.11
// with radiotap (127) or PPI (192) headers, and NFLOG (239).
func SupportedLinkType(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeLoop,
		layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6,
		layers.LinkTypePPP, 105, 127, 192, 239:
		return true
	}
	return false
}

const supportedList = "supported: Ethernet, Linux cooked (SLL, SLL2), BSD Null/Loop, raw IP/IPv4/IPv6, PPP, 802.11 (bare, radiotap, PPI), NFLOG"

// linkTypeNames are the LINKTYPE_ names (https://www.tcpdump.org/linktypes.html)
// of link types users are likely to meet.
var linkTypeNames = map[layers.LinkType]string{
	0: "NULL", 1: "ETHERNET", 6: "IEEE802_5 (Token Ring)", 8: "SLIP", 9: "PPP", 10: "FDDI",
	12: "RAW (DLT_RAW)", 14: "RAW (DLT_RAW)", 50: "PPP_HDLC", 51: "PPP_ETHER", 101: "RAW", 104: "C_HDLC",
	105: "IEEE802_11 (Wi-Fi)", 107: "FRELAY", 108: "LOOP", 113: "LINUX_SLL",
	119: "IEEE802_11_PRISM", 127: "IEEE802_11_RADIOTAP (Wi-Fi with radiotap)",
	163: "IEEE802_11_AVS", 187: "BLUETOOTH_HCI_H4", 189: "USB_LINUX", 192: "PPI",
	195: "IEEE802_15_4", 201: "BLUETOOTH_HCI_H4_WITH_PHDR", 204: "PPP_PPPD",
	215: "IEEE802_15_4_NONASK_PHY", 220: "USB_LINUX_MMAPPED", 227: "CAN_SOCKETCAN",
	228: "IPV4", 229: "IPV6", 249: "USBPCAP", 253: "NETLINK", 254: "BLUETOOTH_LINUX_MONITOR",
	276: "LINUX_SLL2", 279: "ETW", 285: "ZBOSS_NCP",
}

// LinkTypeName names a link type for messages: "LINKTYPE_IEEE802_11 (105)".
func LinkTypeName(lt layers.LinkType) string {
	if n, ok := linkTypeNames[lt]; ok {
		return fmt.Sprintf("LINKTYPE_%s (%d)", n, int(lt))
	}
	if lt >= 147 && lt <= 162 {
		return fmt.Sprintf("LINKTYPE_USER%d (%d, private use)", int(lt)-147, int(lt))
	}
	return fmt.Sprintf("%d (not a registered link type)", int(lt))
}
