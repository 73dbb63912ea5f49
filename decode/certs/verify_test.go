package certs

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs/certtest"
)

func TestVerifyTrustedChain(t *testing.T) {
	p := certtest.NewPKI(t)
	v := Verify(certtest.Chain(p.Leaf, p.Intermediate), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if !v.Trusted || v.Err != nil || v.HostErr != nil || !v.HostChecked || v.Order != "" || len(v.Supplied) != 0 {
		t.Fatalf("good chain: %+v", v)
	}
	if len(v.Chain) != 3 || v.Chain[2] != p.Root.Cert {
		t.Errorf("chain %d long, want leaf, intermediate, root", len(v.Chain))
	}
}

func TestVerifyUntrusted(t *testing.T) {
	p := certtest.NewPKI(t)
	rogue := certtest.New(t, certtest.Options{CN: "Rogue Root", CA: true}, nil)
	leaf := certtest.New(t, certtest.Options{CN: "rogue leaf", DNS: []string{"www.example.com"}}, rogue)
	v := Verify(certtest.Chain(leaf), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	var ua x509.UnknownAuthorityError
	if v.Trusted || !errors.As(v.Err, &ua) || v.DatesOnly {
		t.Fatalf("rogue chain: %+v", v)
	}
	if !strings.Contains(v.Reason, "CN=Rogue Root") {
		t.Errorf("reason %q does not name the issuer", v.Reason)
	}
	// A self-signed leaf is untrusted and says so.
	self := certtest.New(t, certtest.Options{CN: "www.example.com", DNS: []string{"www.example.com"}}, nil)
	v = Verify(certtest.Chain(self), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if v.Trusted || !strings.Contains(v.Reason, "self-signed") {
		t.Errorf("self-signed: %+v", v)
	}
	// With no roots, trust is not judged.
	v = Verify(certtest.Chain(p.Leaf, p.Intermediate), "", VerifyOptions{Time: certtest.Base})
	if v.Trusted || !errors.Is(v.Err, ErrNoRoots) || v.HostChecked {
		t.Errorf("no roots: %+v", v)
	}
}

func TestVerifyDatesOnly(t *testing.T) {
	p := certtest.NewPKI(t)
	expired := certtest.New(t, certtest.Options{CN: "expired.example.com", DNS: []string{"expired.example.com"},
		NotBefore: certtest.Base.AddDate(0, -6, 0), NotAfter: certtest.Base.AddDate(0, 0, -1)}, p.Intermediate)
	v := Verify(certtest.Chain(expired, p.Intermediate), "expired.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if v.Trusted || !v.DatesOnly || v.Chain == nil {
		t.Fatalf("expired leaf of a trusted chain: %+v", v)
	}
	// An expired intermediate: crypto/x509 calls it an unknown authority.
	oldInter := certtest.New(t, certtest.Options{CN: "Old Intermediate", CA: true, NotBefore: certtest.Base.AddDate(-3, 0, 0), NotAfter: certtest.Base.AddDate(0, -1, 0)}, p.Root)
	leaf := certtest.New(t, certtest.Options{CN: "old.example.com", DNS: []string{"old.example.com"}, NotBefore: certtest.Base.AddDate(0, -3, 0)}, oldInter)
	v = Verify(certtest.Chain(leaf, oldInter), "old.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if v.Trusted || !v.DatesOnly {
		t.Fatalf("expired intermediate: %+v", v)
	}
	// Not yet valid, and an untrusted chain that is also expired is
	// still untrusted, not DatesOnly.
	rogue := certtest.New(t, certtest.Options{CN: "Rogue Root 2", CA: true}, nil)
	bad := certtest.New(t, certtest.Options{CN: "bad.example.com", NotAfter: certtest.Base.AddDate(0, 0, -2)}, rogue)
	v = Verify(certtest.Chain(bad), "", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if v.Trusted || v.DatesOnly {
		t.Errorf("untrusted and expired: %+v", v)
	}
	// Its reason is the unknown issuer, which the date error hid (issue
	// 20: "a certificate is outside its validity period" was reported).
	var ua x509.UnknownAuthorityError
	if !errors.As(v.Err, &ua) || !strings.Contains(v.Reason, "CN=Rogue Root 2") {
		t.Errorf("untrusted and expired: reason %q, err %v; want the unknown issuer CN=Rogue Root 2", v.Reason, v.Err)
	}
}

func TestVerifyChainOrder(t *testing.T) {
	p := certtest.NewPKI(t)
	opts := VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base}
	for _, tc := range []struct {
		name    string
		chain   []*certtest.Cert
		problem string // substring of Order, "" for none
	}{
		{"in order", []*certtest.Cert{p.Leaf, p.Intermediate}, ""},
		{"with root", []*certtest.Cert{p.Leaf, p.Intermediate, p.Root}, ""},
		{"root before intermediate", []*certtest.Cert{p.Leaf, p.Root, p.Intermediate}, "its issuer was sent as certificate 3"},
		{"intermediate first", []*certtest.Cert{p.Intermediate, p.Leaf}, "must come first"},
		{"leaf only", []*certtest.Cert{p.Leaf}, ""},
	} {
		v := Verify(certtest.Chain(tc.chain...), "", opts)
		if tc.problem == "" && v.Order != "" || tc.problem != "" && !strings.Contains(v.Order, tc.problem) {
			t.Errorf("%s: Order %q, want %q", tc.name, v.Order, tc.problem)
		}
	}
}

func TestVerifyIntermediateSuppliedByBundle(t *testing.T) {
	p := certtest.NewPKI(t)
	// The server sends only its leaf; the bundle has the intermediate.
	v := Verify(certtest.Chain(p.Leaf), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root, p.Intermediate), Time: certtest.Base})
	if !v.Trusted || len(v.Supplied) != 1 || v.Supplied[0] != p.Intermediate.Cert {
		t.Fatalf("missing intermediate: trusted %v supplied %d (%v)", v.Trusted, len(v.Supplied), v.Err)
	}
	// When the server sends it, nothing is supplied even if the bundle
	// has it too.
	v = Verify(certtest.Chain(p.Leaf, p.Intermediate), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root, p.Intermediate), Time: certtest.Base})
	if !v.Trusted || len(v.Supplied) != 0 {
		t.Fatalf("intermediate sent: supplied %d", len(v.Supplied))
	}
	// Without it in the bundle, the leaf alone does not verify.
	v = Verify(certtest.Chain(p.Leaf), "www.example.com", VerifyOptions{Roots: certtest.Pool(p.Root), Time: certtest.Base})
	if v.Trusted {
		t.Fatal("leaf without its intermediate verified")
	}
}

// TestHostnameRFC6125 follows RFC 6125, 6.4 (and RFC 9525, 6.3, which
// forbids partial wildcards): the wildcard is the whole left-most label
// and matches exactly one label; matching is case-insensitive; the
// subject CN is not consulted when (as here) there are SANs.
func TestHostnameRFC6125(t *testing.T) {
	for _, tc := range []struct {
		san   []string
		ips   []string
		host  string
		match bool
	}{
		{[]string{"www.example.com"}, nil, "www.example.com", true},
		{[]string{"www.example.com"}, nil, "WWW.Example.COM", true},
		{[]string{"www.example.com"}, nil, "www.example.com.", true},
		{[]string{"www.example.com"}, nil, "example.com", false},
		{[]string{"*.example.com"}, nil, "foo.example.com", true},
		{[]string{"*.example.com"}, nil, "example.com", false},
		{[]string{"*.example.com"}, nil, "bar.foo.example.com", false},
		{[]string{"*.badssl.com", "badssl.com"}, nil, "wrong.host.badssl.com", false},
		{[]string{"f*.example.com"}, nil, "foo.example.com", false},
		{[]string{"www.*.example.com"}, nil, "www.foo.example.com", false},
		{[]string{"xn--bcher-kva.example"}, nil, "xn--bcher-kva.example", true},
		{nil, []string{"127.0.0.1"}, "127.0.0.1", true},
		{nil, []string{"127.0.0.1"}, "127.0.0.2", false},
		{[]string{"127.0.0.1"}, nil, "127.0.0.1", false}, // an IP must be an iPAddress SAN
	} {
		cn := "cn-" + strings.Join(tc.san, "_") + strings.Join(tc.ips, "_")
		c := certtest.New(t, certtest.Options{CN: cn, DNS: tc.san, IPs: tc.ips}, nil)
		v := Verify(certtest.Chain(c), tc.host, VerifyOptions{Time: certtest.Base})
		if got := v.HostErr == nil; got != tc.match || !v.HostChecked {
			t.Errorf("SAN %v IP %v host %q: match %v, want %v (%v)", tc.san, tc.ips, tc.host, got, tc.match, v.HostErr)
		}
	}
}

func TestVerifyNeedsTime(t *testing.T) {
	p := certtest.NewPKI(t)
	v := Verify(certtest.Chain(p.Leaf), "", VerifyOptions{Roots: certtest.Pool(p.Root)})
	if v.Trusted || v.Err == nil {
		t.Fatal("verified without a time: it must never fall back to the clock")
	}
	if v := Verify(nil, "", VerifyOptions{Time: time.Unix(0, 0)}); v.Err == nil {
		t.Fatal("empty chain verified")
	}
}
