package tls

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tlsscope/tlsscope/decode/keylog"
	"github.com/tlsscope/tlsscope/decode/tls/keys"
)

// Keys is where a Conn finds the secrets of its connection: a key log
// (*keylog.Log, keylog.Logs), looked up by ClientHello.random.
type Keys interface {
	// Given reports whether a key log was given at all: without one
	// decryption was not asked for, and no connection gets a status.
	Given() bool
	Lookup(clientRandom []byte) (keylog.Secrets, bool)
}

// Decryption statuses (Decryption.Status).
const (
	DecryptOK          = "ok"                // every protected record seen was opened
	DecryptNoKey       = "no-key"            // the key log has no secrets for the connection's ClientHello.random
	DecryptPartial     = "partial"           // some records could not be opened for want of a secret (one missing from the log, 0-RTT data without its key)
	DecryptUnsupported = "unsupported-suite" // secrets are there, the suite's cipher (or SSL 3.0) is not decrypted here
	DecryptFailed      = "failed"            // a record's tag did not verify under the secret logged for it
)

// Decryption is what key-log decryption made of a connection
// (Session.Decryption). Status is "" when no key log was given, or
// nothing of the connection was protected. No record whose tag did not
// verify is ever read: it counts in Failed and is handled as when there
// are no keys.
type Decryption struct {
	Status string
	Opened [2]uint64 // records opened (their tag verified), per Direction
	Failed [2]uint64 // records whose tag did not verify under the secret logged for them
	Unread [2]uint64 // protected records not opened for want of their secret
	// Detail says why, for a status other than ok: the labels missing
	// from the key log, the suite not supported.
	Detail string
}

// dec13 is the Handshake's key-log decryption state.
type dec13 struct {
	asked   bool // a key log was given when the connection needed its secrets
	found   bool
	secrets keylog.Secrets
	suite   uint16

	unsupported string   // the reason a suite cannot be decrypted
	badSecret   string   // a logged secret that does not fit the suite
	missing     []string // labels needed and not in the log
	gap         bool     // records were lost: some may be unread

	prot [2]*protect13 // the decrypting protection of each direction, nil when none

	// TLS 1.2 and older: both directions' Openers, made at the first
	// ChangeCipherSpec from CLIENT_RANDOM's master secret; the
	// protection of each direction after its ChangeCipherSpec.
	open12       [2]keys.Opener
	made12       bool
	prot12       [2]*protect12
	renegotiated bool // a renegotiation was seen; its keys are not followed
}

// lookupKeys finds the connection's secrets by its ClientHello.random
// (after a HelloRetryRequest both ClientHellos carry the same one; the
// first is tried too). A miss is looked up again at the next call: a key
// may have been logged since.
func (h *Handshake) lookupKeys() bool {
	if h.keys == nil || !h.keys.Given() {
		return h.dec != nil && h.decState().found
	}
	d := h.decState()
	if d.found {
		return true
	}
	d.asked = true
	for _, ch := range []*ClientHello{h.s.ClientHello, h.s.FirstClientHello} {
		if ch == nil {
			continue
		}
		if s, ok := h.keys.Lookup(ch.Random); ok {
			d.secrets, d.found = s, true
			return true
		}
	}
	return false
}

// earlyData13 starts the client's 0-RTT protection at a ClientHello that
// offers early data, when the key log has CLIENT_EARLY_TRAFFIC_SECRET.
// The suite is the resumed PSK's, which the hello does not say: the
// offered TLS 1.3 suites whose hash fits the secret are tried on the
// first record, and the one whose tag verifies is kept.
func (h *Handshake) earlyData13(ch *ClientHello) {
	if h.layer == nil || !ch.EarlyData || !h.lookupKeys() || !h.decState().secrets.TLS13() {
		return
	}
	secret := h.decState().secrets.ClientEarly
	if secret == nil {
		// The 0-RTT records are there, and cannot be read: counted as
		// unread from here on.
		h.decState().missing = appendNew(h.decState().missing, "CLIENT_EARLY_TRAFFIC_SECRET")
		p := h.newProtect13(ClientToServer, &stage13{label: "CLIENT_EARLY_TRAFFIC_SECRET"})
		h.protected[ClientToServer] = true
		h.layer.protect(ClientToServer, p)
		return
	}
	var cands []keys.Opener
	for _, suite := range ch.CipherSuites {
		if keys.HashLen13(suite) != len(secret) {
			continue
		}
		if o, err := keys.TLS13(suite, secret); err == nil {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return
	}
	p := h.newProtect13(ClientToServer, &stage13{op: &trialOpener{cands: cands}, label: "CLIENT_EARLY_TRAFFIC_SECRET"})
	h.protected[ClientToServer] = true
	h.layer.protect(ClientToServer, p)
}

// stage13 is one secret's protection of a direction: records under it are
// numbered from 0 (RFC 8446, 5.3).
type stage13 struct {
	op     keys.Opener // nil: the secret is not in the key log
	seq    uint64
	label  string // the key log label of the secret
	secret []byte // application traffic secrets: the one KeyUpdate follows
	app    bool
}

// stage makes the stage of one logged secret.
func (h *Handshake) stage(label string, secret []byte, app bool) *stage13 {
	st := &stage13{label: label, secret: secret, app: app}
	if secret == nil {
		h.decState().missing = appendNew(h.decState().missing, label)
		return st
	}
	op, err := keys.TLS13(h.decState().suite, secret)
	switch {
	case errors.Is(err, keys.ErrUnsupported):
		h.decState().unsupported = CipherSuiteName(h.decState().suite) + ": its cipher is not decrypted here"
	case err != nil:
		h.decState().badSecret = fmt.Sprintf("%s does not fit %s: %v", label, CipherSuiteName(h.decState().suite), err)
	default:
		st.op = op
	}
	return st
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// serverHello13 sets both directions' protection at a TLS 1.3
// ServerHello: the handshake traffic secrets, then (tried when a record
// does not open under those: a Finished that could not be read) the
// application traffic secrets. The client's 0-RTT protection, if any, is
// kept in front. Without keys the records stay opaque.
func (h *Handshake) serverHello13() {
	if h.layer == nil {
		return
	}
	d := h.decState()
	if !h.lookupKeys() || !d.secrets.TLS13() {
		h.setProtection(ClientToServer)
		h.setProtection(ServerToClient)
		h.decStatus()
		return
	}
	d.suite = h.s.CipherSuite
	sec := &d.secrets
	srv := []*stage13{
		h.stage("SERVER_HANDSHAKE_TRAFFIC_SECRET", sec.ServerHandshake, false),
		h.stage("SERVER_TRAFFIC_SECRET_0", sec.ServerTraffic, true),
	}
	cli := []*stage13{
		h.stage("CLIENT_HANDSHAKE_TRAFFIC_SECRET", sec.ClientHandshake, false),
		h.stage("CLIENT_TRAFFIC_SECRET_0", sec.ClientTraffic, true),
	}
	if p := d.prot[ClientToServer]; p != nil && len(p.stages) > 0 && p.stages[0].label == "CLIENT_EARLY_TRAFFIC_SECRET" {
		cli = append([]*stage13{p.stages[0]}, cli...)
	}
	if d.unsupported != "" {
		h.setProtection(ClientToServer)
		h.setProtection(ServerToClient)
		h.decStatus()
		return
	}
	early := h.s.ClientHello != nil && h.s.ClientHello.EarlyData && (cli[0].label != "CLIENT_EARLY_TRAFFIC_SECRET" || cli[0].op == nil)
	h.protect13(ServerToClient, srv, false)
	h.protect13(ClientToServer, cli, early)
	h.decStatus()
}

// protect13 makes stages a direction's protection from the next record on.
// skipFirst: records before the first that opens are 0-RTT data sent
// under a secret not logged, and are passed over as unread.
func (h *Handshake) protect13(dir Direction, stages []*stage13, skipFirst bool) {
	p := h.newProtect13(dir, stages...)
	p.skipFirst = skipFirst
	h.protected[dir] = true
	h.layer.protect(dir, p)
}

func (h *Handshake) newProtect13(dir Direction, stages ...*stage13) *protect13 {
	p := &protect13{h: h, dir: dir, stages: stages}
	h.decState().prot[dir] = p
	return p
}

// changed13 follows a decrypted message that changes its sender's keys
// (RFC 8446, 7.2 and 4.5): Finished moves to the application traffic
// secret, KeyUpdate to the next one, EndOfEarlyData from the early to the
// handshake secret.
func (h *Handshake) changed13(dir Direction, typ uint8) {
	p := h.decState().prot[dir]
	if h.layer == nil || p == nil || len(p.stages) == 0 {
		return
	}
	cur := p.stages[0]
	sec := &h.decState().secrets
	switch typ {
	case TypeFinished:
		if cur.app {
			return // the trial already moved on
		}
		label, secret := "SERVER_TRAFFIC_SECRET_0", sec.ServerTraffic
		if dir == ClientToServer {
			label, secret = "CLIENT_TRAFFIC_SECRET_0", sec.ClientTraffic
		}
		h.protect13(dir, []*stage13{h.stage(label, secret, true)}, false)
	case TypeKeyUpdate:
		if !cur.app || cur.secret == nil {
			return
		}
		next, err := keys.NextSecret(h.decState().suite, cur.secret)
		if err != nil {
			return
		}
		st := h.stage(strings.TrimSuffix(cur.label, " (updated)")+" (updated)", next, true)
		h.protect13(dir, []*stage13{st}, false)
	case TypeEndOfEarlyData:
		if cur.label != "CLIENT_EARLY_TRAFFIC_SECRET" || dir != ClientToServer {
			return
		}
		h.protect13(dir, []*stage13{
			h.stage("CLIENT_HANDSHAKE_TRAFFIC_SECRET", sec.ClientHandshake, false),
			h.stage("CLIENT_TRAFFIC_SECRET_0", sec.ClientTraffic, true),
		}, false)
	}
	h.decStatus()
}

// changeCipherSpec12 protects a TLS 1.2 (or older) direction after its
// ChangeCipherSpec (RFC 5246, 7.1) with the keys derived from the key
// log's master secret (CLIENT_RANDOM): keys.TLS12 with the negotiated
// version and suite, both randoms and encrypt_then_mac (RFC 7366) if the
// server echoed it (a NULL suite's MAC is then checked, and its Finished
// and alerts read too; its application data still goes to OnPlaintext).
// Without the secret, or for an unsupported suite, it is the protection of
// a connection without keys. A ChangeCipherSpec
// after a renegotiation is not followed: what comes after is unread.
func (h *Handshake) changeCipherSpec12(dir Direction) {
	d := h.decState()
	switch {
	case !h.lookupKeys():
		h.setProtection(dir)
		h.decStatus()
		return
	case d.secrets.Master == nil:
		d.found = false // secrets of TLS 1.3 for a TLS 1.2 connection
		h.setProtection(dir)
		h.decStatus()
		return
	}
	if !d.made12 {
		d.made12 = true
		sh := h.s.ServerHello
		suite, _ := LookupCipherSuite(h.s.CipherSuite)
		p := keys.Params12{Version: h.s.Version, Suite: suite.Name, Master: d.secrets.Master,
			ClientRandom: h.s.ClientHello.Random, ServerRandom: sh.Random, EncryptThenMAC: containsExt(sh.Extensions, extEncryptThenMAC)}
		c, s, err := keys.TLS12(p)
		switch {
		case errors.Is(err, keys.ErrUnsupported):
			d.unsupported = fmt.Sprintf("%s with %s: %v", VersionName(h.s.Version), CipherSuiteName(h.s.CipherSuite), err)
		case err != nil:
			d.badSecret = fmt.Sprintf("CLIENT_RANDOM: %v", err)
		default:
			d.open12 = [2]keys.Opener{c, s}
		}
	}
	if d.open12[dir] == nil {
		h.setProtection(dir)
		h.decStatus()
		return
	}
	p := &protect12{h: h, dir: dir, op: d.open12[dir]}
	if d.renegotiated {
		p.op = nil
		d.missing = appendNew(d.missing, "the renegotiated session's CLIENT_RANDOM (renegotiation is not followed)")
	}
	d.prot12[dir] = p
	h.protected[dir] = true
	h.layer.protect(dir, p)
	h.decStatus()
}

// extEncryptThenMAC is encrypt_then_mac (RFC 7366, 2).
const extEncryptThenMAC uint16 = 22

func containsExt(exts []uint16, t uint16) bool {
	for _, e := range exts {
		if e == t {
			return true
		}
	}
	return false
}

// protect12 is the decrypting Protection of one TLS 1.2 (or older)
// direction after its ChangeCipherSpec: every record type is protected
// (RFC 5246, 6.2.3), each with the next sequence number; after a gap the
// next maxLost are tried. op nil: the keys are not known (renegotiation),
// records are counted unread.
type protect12 struct {
	h   *Handshake
	dir Direction
	op  keys.Opener
	seq uint64
	gap bool
	buf []byte
}

func (p *protect12) Reads(typ uint8) bool {
	return typ == ContentHandshake || typ == ContentAlert || typ == ContentApplicationData
}
func (p *protect12) plain(uint8) bool { return false }
func (p *protect12) lost()            { p.gap = true }

func (p *protect12) Open(r Record) (uint8, []byte, bool) {
	d := &p.h.s.Decryption
	if p.op == nil {
		d.Unread[p.dir]++
		p.h.decStatus()
		return 0, nil, false
	}
	tries := uint64(1)
	if p.gap {
		tries += maxLost
	}
	for k := uint64(0); k < tries; k++ {
		typ, plain, err := p.op.Open(p.buf[:0], p.seq+k, r.Type, r.Version, r.Body)
		if err != nil {
			continue
		}
		p.buf = plain[:0]
		p.seq += k + 1
		if p.gap && k > 0 {
			p.h.decState().gap = true
		}
		p.gap = false
		d.Opened[p.dir]++
		p.h.decStatus()
		return typ, plain, true
	}
	if p.gap {
		d.Unread[p.dir]++
		p.h.decState().gap = true
	} else {
		d.Failed[p.dir]++
		p.seq++ // the record took its number, whatever it held
	}
	p.h.decStatus()
	return 0, nil, false
}

// decStatus sets Session.Decryption.Status from what is known so far.
func (h *Handshake) decStatus() {
	st := &h.s.Decryption
	if h.dec == nil {
		st.Status, st.Detail = "", "" // no key log consulted
		return
	}
	d := h.dec
	unread := st.Unread[0]+st.Unread[1] > 0
	switch {
	case !d.asked:
		st.Status, st.Detail = "", ""
	case !d.found:
		st.Status, st.Detail = DecryptNoKey, "no secrets for this ClientHello.random in the key log"
	case d.unsupported != "":
		st.Status, st.Detail = DecryptUnsupported, d.unsupported
	case st.Failed[0]+st.Failed[1] > 0:
		st.Status = DecryptFailed
		st.Detail = fmt.Sprintf("%d record(s) did not authenticate under the logged secrets", st.Failed[0]+st.Failed[1])
		if d.badSecret != "" {
			st.Detail += "; " + d.badSecret
		}
	case d.badSecret != "":
		st.Status, st.Detail = DecryptFailed, d.badSecret
	case unread:
		st.Status = DecryptPartial
		var why []string
		if len(d.missing) > 0 {
			why = append(why, "not in the key log: "+strings.Join(d.missing, ", "))
		}
		if d.gap {
			why = append(why, "records lost in the capture")
		}
		if len(why) == 0 {
			why = append(why, "0-RTT data without CLIENT_EARLY_TRAFFIC_SECRET")
		}
		st.Detail = fmt.Sprintf("%d record(s) not opened: %s", st.Unread[0]+st.Unread[1], strings.Join(why, "; "))
	default:
		st.Status, st.Detail = DecryptOK, ""
	}
}

// decrypting reports whether a direction's records are being opened (or
// counted as unread for want of a secret), so the connection has more to
// tell than its byte counts.
func (h *Handshake) decrypting() bool {
	d := h.dec
	return d != nil && (d.prot[0] != nil || d.prot[1] != nil || d.prot12[0] != nil || d.prot12[1] != nil)
}

// decState is the connection's decryption state, made at its first use:
// a connection without a key log never needs one (most of them), so it
// does not carry one.
func (h *Handshake) decState() *dec13 {
	if h.dec == nil {
		h.dec = &dec13{}
	}
	return h.dec
}

// protect13 is the decrypting Protection of one TLS 1.3 direction: the
// stages of its secrets in order, the current first. A record is opened
// under the current stage at its sequence number, else under a later one
// from 0 (its key change was not read: the trial moves on); one that opens
// under none is never read. It keeps its own sequence numbers, since
// records passed over (0-RTT data) are not numbered under the stage that
// follows.
type protect13 struct {
	h         *Handshake
	dir       Direction
	stages    []*stage13
	skipFirst bool // records before the first that opens are 0-RTT data: unread, not failed
	opened    bool // a record opened under this protection
	gap       bool // records were lost since the last that opened: search ahead
	buf       []byte
}

// maxLost is how many lost records the search after a gap skips over.
const maxLost = 32

func (p *protect13) Reads(typ uint8) bool { return typ == ContentApplicationData }

// plain implements decrypter: in TLS 1.3 only application_data records
// are protected (RFC 8446, 5); a handshake or alert record is in the clear
// (a second ClientHello after a HelloRetryRequest, a client's alert about
// the server's flight).
func (p *protect13) plain(typ uint8) bool { return typ != ContentApplicationData }

func (p *protect13) lost() { p.gap = true }

func (p *protect13) Open(r Record) (uint8, []byte, bool) {
	d := &p.h.s.Decryption
	for i, st := range p.stages {
		if st.op == nil {
			continue
		}
		seq, tries := st.seq, uint64(1)
		if i > 0 {
			seq = 0
		}
		if p.gap {
			tries += maxLost
		}
		for k := uint64(0); k < tries; k++ {
			typ, plain, err := st.op.Open(p.buf[:0], seq+k, r.Type, r.Version, r.Body)
			if err != nil {
				continue
			}
			p.buf = plain[:0]
			if i > 0 {
				p.stages = p.stages[i:]
			}
			st.seq = seq + k + 1
			p.opened, p.gap = true, false
			d.Opened[p.dir]++
			if k > 0 {
				p.h.decState().gap = true
			}
			p.h.decStatus()
			return typ, plain, true
		}
	}
	switch {
	case p.stages[0].op == nil || p.skipFirst && !p.opened:
		d.Unread[p.dir]++
	case p.gap:
		d.Unread[p.dir]++
		p.h.decState().gap = true
	default:
		d.Failed[p.dir]++
	}
	p.h.decStatus()
	return 0, nil, false
}

// trialOpener opens with the first of its Openers under which a record
// verifies, and keeps that one (0-RTT data, whose suite a passive observer
// does not know).
type trialOpener struct{ cands []keys.Opener }

func (t *trialOpener) Open(dst []byte, seq uint64, typ uint8, version uint16, body []byte) (uint8, []byte, error) {
	for i, o := range t.cands {
		inner, plain, err := o.Open(dst, seq, typ, version, body)
		if err == nil {
			t.cands = t.cands[i : i+1]
			return inner, plain, nil
		}
	}
	return 0, nil, keys.ErrAuth
}
