// Package keylog reads TLS key logs in the NSS key log format (the
// SSLKEYLOGFILE lines curl, Firefox, Chrome, Python, Node, Go's
// tls.Config.KeyLogWriter and openssl s_client -keylogfile write), as
// RFC 9850 specifies it, and indexes their secrets once by client random.
//
// A line is a label, the 32-byte ClientHello.random in hex and the secret
// in hex, separated by single spaces (RFC 9850, 2); lines starting with
// '#' are comments. Labels read (RFC 9850, 3 and 4):
//
//	CLIENT_RANDOM                    TLS 1.2 and older: the 48-byte master secret
//	CLIENT_EARLY_TRAFFIC_SECRET      TLS 1.3: 0-RTT data
//	CLIENT_HANDSHAKE_TRAFFIC_SECRET  TLS 1.3: the client's handshake flight
//	SERVER_HANDSHAKE_TRAFFIC_SECRET  TLS 1.3: the server's handshake flight
//	CLIENT_TRAFFIC_SECRET_0          TLS 1.3: the client's first application traffic secret
//	SERVER_TRAFFIC_SECRET_0          TLS 1.3: the server's first application traffic secret
//	EXPORTER_SECRET                  TLS 1.3 exporter (kept, unused)
//	EARLY_EXPORTER_SECRET            TLS 1.3 early exporter (kept, unused)
//	ECH_SECRET, ECH_CONFIG           Encrypted Client Hello, keyed by the inner random
//
// Nothing in a key log is fatal: comments, blank lines, lines of other
// labels and lines that do not parse are counted per source (Source) and
// skipped. A Log is safe for concurrent use: lines may be added (a live
// capture tails a key log still being written; a pcapng Decryption Secrets
// Block arrives in the middle of a capture) while lookups run.
package keylog

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Label is a key log line's label.
type Label uint8

// The labels a Log keeps (RFC 9850, 3 and 4).
const (
	ClientRandom Label = iota + 1
	ClientEarlyTrafficSecret
	ClientHandshakeTrafficSecret
	ServerHandshakeTrafficSecret
	ClientTrafficSecret0
	ServerTrafficSecret0
	ExporterSecret
	EarlyExporterSecret
	ECHSecret
	ECHConfig
	numLabels
)

var labelNames = [numLabels]string{
	ClientRandom:                 "CLIENT_RANDOM",
	ClientEarlyTrafficSecret:     "CLIENT_EARLY_TRAFFIC_SECRET",
	ClientHandshakeTrafficSecret: "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	ServerHandshakeTrafficSecret: "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	ClientTrafficSecret0:         "CLIENT_TRAFFIC_SECRET_0",
	ServerTrafficSecret0:         "SERVER_TRAFFIC_SECRET_0",
	ExporterSecret:               "EXPORTER_SECRET",
	EarlyExporterSecret:          "EARLY_EXPORTER_SECRET",
	ECHSecret:                    "ECH_SECRET",
	ECHConfig:                    "ECH_CONFIG",
}

func (l Label) String() string {
	if l > 0 && l < numLabels {
		return labelNames[l]
	}
	return fmt.Sprintf("Label(%d)", uint8(l))
}

// lookupLabel finds a label by name.
func lookupLabel(name []byte) (Label, bool) {
	for l := ClientRandom; l < numLabels; l++ {
		if string(name) == labelNames[l] {
			return l, true
		}
	}
	return 0, false
}

// labelLike says whether a word can be a label: upper-case letters,
// digits and underscores (RFC 9850, 2).
func labelLike(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Limits on what a line may hold.
const (
	// RandomLen is the length of ClientHello.random (RFC 8446, 4.1.2).
	RandomLen = 32
	// MasterLen is the length of a TLS 1.2 master secret (RFC 5246, 8.1).
	MasterLen = 48
	// MaxSecret bounds a TLS 1.3 secret: the longest hash of a suite is
	// SHA-384 (48 bytes); 64 leaves room for SHA-512.
	MaxSecret = 64
	// MaxECHConfig bounds an ECH_CONFIG value (an ECHConfig, RFC 9849,
	// 4: a public key and a few names).
	MaxECHConfig = 4096
	// MaxLine bounds a line; a longer one is counted as bad and skipped.
	MaxLine = 2*RandomLen + 2*MaxECHConfig + 64
)

// Line is one parsed key log line.
type Line struct {
	Label  Label
	Random [RandomLen]byte
	Secret []byte
}

// Errors ParseLine returns. A comment or a blank line is not a Line: it
// comes back as ErrComment or ErrBlank; a label this package does not know
// (RSA, PMS_CLIENT_RANDOM, a future one) as ErrUnknownLabel; anything else
// that does not parse wraps ErrBad.
var (
	ErrComment      = errors.New("comment")
	ErrBlank        = errors.New("blank line")
	ErrUnknownLabel = errors.New("unknown label")
	ErrBad          = errors.New("bad key log line")
)

// ParseLine reads one key log line, without its line ending (a trailing
// CR, spaces and tabs are ignored). The Secret it returns is a new slice.
func ParseLine(line []byte) (Line, error) {
	line = bytes.TrimRight(line, " \t\r\n")
	if len(bytes.TrimLeft(line, " \t")) == 0 {
		return Line{}, ErrBlank
	}
	if line[0] == '#' {
		return Line{}, ErrComment
	}
	if len(line) > MaxLine {
		return Line{}, fmt.Errorf("%w: longer than %d bytes", ErrBad, MaxLine)
	}
	name, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Line{}, fmt.Errorf("%w: no space after the label", ErrBad)
	}
	label, known := lookupLabel(name)
	if !known && !labelLike(name) {
		return Line{}, fmt.Errorf("%w: %.40q is not a label", ErrBad, name)
	}
	random, secret, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		if !known {
			return Line{}, fmt.Errorf("%w %.40q", ErrUnknownLabel, name)
		}
		return Line{}, fmt.Errorf("%w: %s: no secret after the client random", ErrBad, label)
	}
	if !known {
		return Line{}, fmt.Errorf("%w %.40q", ErrUnknownLabel, name)
	}
	var l Line
	l.Label = label
	if len(random) != 2*RandomLen {
		return Line{}, fmt.Errorf("%w: %s: client random of %d hex digits, want %d", ErrBad, label, len(random), 2*RandomLen)
	}
	if _, err := hex.Decode(l.Random[:], random); err != nil {
		return Line{}, fmt.Errorf("%w: %s: client random is not hex", ErrBad, label)
	}
	if len(secret)%2 != 0 {
		return Line{}, fmt.Errorf("%w: %s: odd number of hex digits in the secret", ErrBad, label)
	}
	n := len(secret) / 2
	switch {
	case n == 0:
		return Line{}, fmt.Errorf("%w: %s: empty secret", ErrBad, label)
	case label == ClientRandom && n != MasterLen:
		return Line{}, fmt.Errorf("%w: %s: master secret of %d bytes, want %d", ErrBad, label, n, MasterLen)
	case label == ECHConfig && n > MaxECHConfig:
		return Line{}, fmt.Errorf("%w: %s: %d bytes, more than %d", ErrBad, label, n, MaxECHConfig)
	case label != ClientRandom && label != ECHConfig && n > MaxSecret:
		return Line{}, fmt.Errorf("%w: %s: secret of %d bytes, more than %d", ErrBad, label, n, MaxSecret)
	}
	l.Secret = make([]byte, n)
	if _, err := hex.Decode(l.Secret, secret); err != nil {
		return Line{}, fmt.Errorf("%w: %s: secret is not hex", ErrBad, label)
	}
	return l, nil
}

// Secrets are the secrets a key log holds for one client random. A nil
// field was not logged. The slices are never changed once a Log hands
// them out.
type Secrets struct {
	Master                       []byte // CLIENT_RANDOM
	ClientEarly                  []byte // CLIENT_EARLY_TRAFFIC_SECRET
	ClientHandshake              []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshake              []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic, ServerTraffic []byte // CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0
	Exporter, EarlyExporter      []byte // EXPORTER_SECRET, EARLY_EXPORTER_SECRET
	ECHSecret, ECHConfig         []byte // ECH_SECRET, ECH_CONFIG
}

// field is the Secrets field a label fills.
func (s *Secrets) field(l Label) *[]byte {
	switch l {
	case ClientRandom:
		return &s.Master
	case ClientEarlyTrafficSecret:
		return &s.ClientEarly
	case ClientHandshakeTrafficSecret:
		return &s.ClientHandshake
	case ServerHandshakeTrafficSecret:
		return &s.ServerHandshake
	case ClientTrafficSecret0:
		return &s.ClientTraffic
	case ServerTrafficSecret0:
		return &s.ServerTraffic
	case ExporterSecret:
		return &s.Exporter
	case EarlyExporterSecret:
		return &s.EarlyExporter
	case ECHSecret:
		return &s.ECHSecret
	case ECHConfig:
		return &s.ECHConfig
	}
	return nil
}

// TLS13 reports whether the secrets include any TLS 1.3 traffic secret.
func (s *Secrets) TLS13() bool {
	return s.ClientEarly != nil || s.ClientHandshake != nil || s.ServerHandshake != nil ||
		s.ClientTraffic != nil || s.ServerTraffic != nil
}

// Source is what one input (a key log file, a capture's Decryption
// Secrets Blocks) added to a Log, counted by line.
type Source struct {
	Name     string
	Lines    int // lines read, blank and comment lines included
	Entries  int // lines kept (a label this package reads, well formed)
	Randoms  int // client randoms this source was the first to give secrets for
	Comments int
	Blank    int
	Unknown  int    // lines of a label this package does not read (RSA, PMS_CLIENT_RANDOM, ...)
	Bad      int    // lines that do not parse
	FirstBad string // why the first bad line was refused, with its line number
	// Matched is how many of this source's client randoms were looked up
	// by a connection (Lookup found them).
	Matched int
}

// Log is a key log: secrets indexed by client random. Its zero value is
// not usable; call New. It is safe for concurrent use.
type Log struct {
	mu      sync.RWMutex
	entries map[[RandomLen]byte]*entry
	sources []*source
}

// entry is the secrets of one client random. s is replaced, never changed
// in place, so a Secrets handed out stays as it was.
type entry struct {
	s    Secrets
	src  int // the source that added the entry first
	used atomic.Bool
}

type source struct {
	Source
	matched atomic.Int64
}

// New returns an empty Log.
func New() *Log { return &Log{entries: map[[RandomLen]byte]*entry{}} }

// Len is the number of client randoms the Log holds secrets for.
func (l *Log) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}

// Given reports whether anything was added to the Log (a key log file,
// even an empty one, or a capture's secrets): a connection without
// secrets in it then has no key, where with no key log at all decryption
// was not asked for.
func (l *Log) Given() bool {
	if l == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.sources) > 0
}

// Sources lists what each input added, in the order they were added.
func (l *Log) Sources() []Source {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Source, len(l.sources))
	for i, s := range l.sources {
		out[i] = s.Source
		out[i].Matched = int(s.matched.Load())
	}
	return out
}

// Lookup returns the secrets logged for a client random, and whether
// there are any. It marks them as matched (Source.Matched).
func (l *Log) Lookup(random []byte) (Secrets, bool) {
	if l == nil || len(random) != RandomLen {
		return Secrets{}, false
	}
	l.mu.RLock()
	e := l.entries[[RandomLen]byte(random)]
	var s Secrets
	var src *source
	if e != nil {
		s = e.s
		src = l.sources[e.src]
	}
	l.mu.RUnlock()
	if e == nil {
		return Secrets{}, false
	}
	if !e.used.Swap(true) {
		src.matched.Add(1)
	}
	return s, true
}

// Writer adds lines to a Log as they are written, for a live key log: an
// io.Writer that takes any split of the text, keeps an incomplete last
// line until its end comes, and counts into one Source. One Writer is not
// for concurrent use; several Writers of one Log are.
type Writer struct {
	l     *Log
	src   int
	lines int // lines seen so far, for the number of a bad one
	part  []byte
	long  bool // the line being kept is over MaxLine: skip to its end
}

// NewSource starts a source called name (a file name, "capture.pcapng
// DSB") and returns a Writer that adds to it. Close it to take a last
// line that has no line ending.
func (l *Log) NewSource(name string) *Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sources = append(l.sources, &source{Source: Source{Name: name}})
	return &Writer{l: l, src: len(l.sources) - 1}
}

// errLong is a line over MaxLine.
var errLong = fmt.Errorf("%w: longer than %d bytes", ErrBad, MaxLine)

// Write adds every complete line of p (and of what earlier calls left
// incomplete). It never fails.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	var b batch
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !w.long {
				w.part = append(w.part, p...)
				if len(w.part) > MaxLine+2 {
					w.part, w.long = w.part[:0], true
				}
			}
			break
		}
		line := p[:i]
		p = p[i+1:]
		if w.long {
			w.long = false
			w.lines++
			b.bad(w.lines, errLong)
			continue
		}
		if len(w.part) > 0 {
			line = append(w.part, line...)
			w.part = w.part[:0]
		}
		w.lines++
		b.line(w.lines, line)
	}
	w.l.add(w.src, &b)
	return n, nil
}

// Close takes the last line when it has no line ending.
func (w *Writer) Close() error {
	var b batch
	switch {
	case w.long:
		w.lines++
		b.bad(w.lines, errLong)
	case len(w.part) > 0:
		w.lines++
		b.line(w.lines, w.part)
	}
	w.part, w.long = nil, false
	w.l.add(w.src, &b)
	return nil
}

// batch is what one Write parsed, filed under one lock.
type batch struct {
	lines []Line
	st    Source // the counts of the batch
}

func (b *batch) line(n int, text []byte) {
	b.st.Lines++
	l, err := ParseLine(text)
	switch {
	case err == nil:
		b.lines = append(b.lines, l)
	case errors.Is(err, ErrComment):
		b.st.Comments++
	case errors.Is(err, ErrBlank):
		b.st.Blank++
	case errors.Is(err, ErrUnknownLabel):
		b.st.Unknown++
	default:
		b.st.Lines--
		b.bad(n, err)
	}
}

// bad counts a bad line, the first one's reason with its line number.
func (b *batch) bad(n int, err error) {
	b.st.Lines++
	b.st.Bad++
	if b.st.FirstBad == "" {
		b.st.FirstBad = fmt.Sprintf("line %d: %v", n, err)
	}
}

// add files a batch under one lock.
func (l *Log) add(src int, b *batch) {
	if b.st.Lines == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &l.sources[src].Source
	if s.FirstBad == "" {
		s.FirstBad = b.st.FirstBad
	}
	s.Lines += b.st.Lines
	s.Comments += b.st.Comments
	s.Blank += b.st.Blank
	s.Unknown += b.st.Unknown
	s.Bad += b.st.Bad
	s.Entries += len(b.lines)
	for _, ln := range b.lines {
		e := l.entries[ln.Random]
		if e == nil {
			e = &entry{src: src}
			l.entries[ln.Random] = e
			s.Randoms++
		}
		// A new Secrets value: one handed out before stays as it was.
		ns := e.s
		*ns.field(ln.Label) = ln.Secret
		e.s = ns
	}
}

// Read adds every line of r as a source called name.
func (l *Log) Read(r io.Reader, name string) error {
	w := l.NewSource(name)
	br := bufio.NewReaderSize(r, 64<<10)
	_, err := br.WriteTo(w)
	w.Close()
	return err
}

// Add adds the lines of b (a key log's text, a Decryption Secrets Block's
// payload) as a source called name.
func (l *Log) Add(b []byte, name string) {
	w := l.NewSource(name)
	w.Write(b)
	w.Close()
}

// ReadFile adds the key log file at path, as a source named by its path.
// A file that cannot be read is an error naming it (an *os.PathError).
func (l *Log) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return &os.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
	}
	if err := l.Read(f, path); err != nil {
		return &os.PathError{Op: "read", Path: path, Err: err}
	}
	return nil
}

// Logs is several key logs looked up in order, as one (a capture's own
// Decryption Secrets Blocks, then the files given).
type Logs []*Log

// Given reports whether anything was added to any of them.
func (ls Logs) Given() bool {
	for _, l := range ls {
		if l.Given() {
			return true
		}
	}
	return false
}

// Lookup returns the secrets of the first log that has them for random.
func (ls Logs) Lookup(random []byte) (Secrets, bool) {
	for _, l := range ls {
		if s, ok := l.Lookup(random); ok {
			return s, true
		}
	}
	return Secrets{}, false
}

// FromEnv, given as a key log file, stands for the file the SSLKEYLOGFILE
// environment variable names (--keylog env): the variable is read only
// when the user asks for it (a file called env is ./env).
const FromEnv = "env"

// ErrNoEnv is ResolveEnv's error when SSLKEYLOGFILE is unset or empty.
var ErrNoEnv = errors.New("SSLKEYLOGFILE is not set")

// ResolveEnv replaces each FromEnv in files by $SSLKEYLOGFILE, read with
// getenv (os.Getenv).
func ResolveEnv(files []string, getenv func(string) string) error {
	for i, f := range files {
		if f != FromEnv {
			continue
		}
		p := getenv("SSLKEYLOGFILE")
		if p == "" {
			return ErrNoEnv
		}
		files[i] = p
	}
	return nil
}
