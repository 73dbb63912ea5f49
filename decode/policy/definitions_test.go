package policy

import (
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
)

// TestDefinitionsInRegistry: the policy's ids are defined in decode/rules'
// one table, marked Policy, each tied to the handshake message its check
// reads; and they are the only ids there marked Policy.
func TestDefinitionsInRegistry(t *testing.T) {
	want := map[string]facts.Step{
		IDMinVersion:    facts.StepServerHello,
		IDDeniedSuite:   facts.StepServerHello,
		IDSuiteNotAllow: facts.StepServerHello,
		IDUnexpectedSNI: facts.StepClientHello,
		IDPinMismatch:   facts.StepCertificate,
	}
	ds := Definitions()
	if len(ds) != len(want) {
		t.Fatalf("%d definitions, want %d", len(ds), len(want))
	}
	for _, d := range ds {
		r, ok := rules.Lookup(d.ID)
		if !ok || r != d || !d.Policy || d.Title == "" || d.Step != want[d.ID] {
			t.Errorf("%s: %+v (registry: %v)", d.ID, d, ok)
		}
	}
	n := 0
	for _, d := range rules.Definitions() {
		if d.Policy {
			n++
			if _, ok := want[d.ID]; !ok {
				t.Errorf("%s is marked Policy but the policy does not report it", d.ID)
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d ids marked Policy, want %d", n, len(want))
	}
}
