// Package certtest makes certificates for tests with crypto/x509: roots,
// intermediates and leaves with chosen names, dates, keys and signature
// algorithms. It is for tests only (like net/http/httptest); keys are
// generated once per process and shared.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// Cert is a certificate and the key it certifies.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Options describe a certificate to make. Zero values take defaults: key
// "p256", valid from Base-30 days to Base+90 days, a serial from the
// common name.
type Options struct {
	CN        string
	DNS       []string
	IPs       []string
	NotBefore time.Time
	NotAfter  time.Time
	CA        bool
	Key       string // "p256", "p384", "p224", "ed25519", "rsa1024", "rsa2048"
	SigAlg    x509.SignatureAlgorithm
	EKU       []x509.ExtKeyUsage // default: serverAuth for leaves, none for CAs
	Serial    int64
	// Issuer overrides the issuer name without changing the signer (to
	// make a certificate whose issuer name matches but whose signature
	// does not).
	IssuerName *pkix.Name
	// RawSubject, when set, is the subject's DER, used as is.
	RawSubject []byte
}

// Base is the "now" tests judge at: 2026-06-01T00:00:00Z.
var Base = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

var (
	keysMu sync.Mutex
	keys   = map[string]crypto.Signer{}
)

// Key returns the process-wide key of a kind for a name, generating it
// once: certificates with different common names never share a key.
func Key(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	id := kind + "/" + name
	if k, ok := keys[id]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kind {
	case "", "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p224":
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("certtest: unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatalf("certtest: generating %s key: %v", kind, err)
	}
	keys[id] = k
	return k
}

var serials sync.Map

// New makes a certificate signed by parent (self-signed when parent is
// nil).
func New(t testing.TB, o Options, parent *Cert) *Cert {
	t.Helper()
	key := Key(t, o.Key, o.CN)
	if o.NotBefore.IsZero() {
		o.NotBefore = Base.AddDate(0, 0, -30)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = Base.AddDate(0, 0, 90)
	}
	serial := o.Serial
	if serial == 0 {
		n, _ := serials.LoadOrStore(o.CN, int64(0))
		serial = n.(int64) + 1000
		serials.Store(o.CN, n.(int64)+1)
		serial += int64(len(o.CN)) << 20
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: o.CN, Organization: []string{"tlsscope test"}},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		DNSNames:              o.DNS,
		BasicConstraintsValid: true,
		IsCA:                  o.CA,
		SignatureAlgorithm:    o.SigAlg,
		ExtKeyUsage:           o.EKU,
		RawSubject:            o.RawSubject,
	}
	for _, ip := range o.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if o.CA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	issuerTmpl, signer := tmpl, key
	if parent != nil {
		issuerTmpl, signer = parent.Cert, parent.Key
	}
	if o.IssuerName != nil {
		cp := *issuerTmpl
		cp.Subject = *o.IssuerName
		cp.RawSubject = nil
		issuerTmpl = &cp
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerTmpl, key.Public(), signer)
	if err != nil {
		t.Fatalf("certtest: creating %q: %v", o.CN, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certtest: parsing %q: %v", o.CN, err)
	}
	return &Cert{Cert: c, Key: key}
}

// PKI is a root, an intermediate it issued, and a leaf for
// "www.example.com" the intermediate issued, all valid at Base.
type PKI struct {
	Root, Intermediate, Leaf *Cert
}

// NewPKI makes a PKI (ECDSA P-256 keys, SHA-256 signatures).
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	root := New(t, Options{CN: "Test Root CA", CA: true, Key: "p256", NotBefore: Base.AddDate(-5, 0, 0), NotAfter: Base.AddDate(10, 0, 0)}, nil)
	inter := New(t, Options{CN: "Test Intermediate CA", CA: true, Key: "p384", NotBefore: Base.AddDate(-2, 0, 0), NotAfter: Base.AddDate(5, 0, 0)}, root)
	leaf := New(t, Options{CN: "www.example.com", DNS: []string{"www.example.com", "example.com"}}, inter)
	return &PKI{Root: root, Intermediate: inter, Leaf: leaf}
}

// Pool is a CertPool of the given certificates.
func Pool(cs ...*Cert) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c.Cert)
	}
	return p
}

// Chain lists the certificates, as a server would send them.
func Chain(cs ...*Cert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Cert
	}
	return out
}
