package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func testDER(t *testing.T, serial int64) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "cache.test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCertCacheSharesAndBounds: the same DER gives the same parsed
// certificate, different DER a different one, garbage an error, and the
// cache never holds more than its bound.
func TestCertCacheSharesAndBounds(t *testing.T) {
	var cc CertCache
	der := testDER(t, 1)
	a, err := cc.parse(der)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cc.parse(append([]byte(nil), der...))
	if a != b {
		t.Error("same DER parsed twice")
	}
	other, _ := cc.parse(testDER(t, 2))
	if other == a || other.SerialNumber.Int64() != 2 {
		t.Error("different DER shared a certificate")
	}
	if _, err := cc.parse(der[:len(der)/2]); err == nil {
		t.Error("truncated DER parsed")
	}
	for i := 0; i < MaxCachedCertificates+10; i++ {
		cc.m[string(rune(i))+"x"] = a
		if len(cc.m) >= MaxCachedCertificates {
			cc.parse(testDER(t, 3))
			break
		}
	}
	if len(cc.m) > MaxCachedCertificates {
		t.Errorf("cache holds %d certificates, bound %d", len(cc.m), MaxCachedCertificates)
	}
	var none *CertCache
	if c, err := none.parse(der); err != nil || c == a {
		t.Error("a nil cache must parse afresh")
	}
}
