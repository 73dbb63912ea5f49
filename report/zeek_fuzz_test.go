package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// countSeparators counts the unescaped ',' and '+' of an RFC 4514 name.
func countSeparators(dn string) int {
	n := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', '+':
			n++
		}
	}
	return n
}

// FuzzZeekName: renaming attribute types never touches the structure of
// a name (its unescaped separators) nor a name without a type to rename,
// and the zeek and ecs records of hostile certificate text are valid JSON
// lines.
func FuzzZeekName(f *testing.F) {
	f.Add("CN=*.taleo.net,OU=Web,STREET=4140 Dublin Boulevard,2.5.4.17=94568,C=US")
	f.Add(`1.2.840.113549.1.9.1=a\,b@c,CN=x\+y+2.5.4.5=1`)
	f.Add("CN=\\")
	f.Add("=,=+=\\")
	f.Fuzz(func(t *testing.T, dn string) {
		got := zeekName(dn)
		if countSeparators(got) != countSeparators(dn) {
			t.Fatalf("zeekName(%q) = %q: separators changed", dn, got)
		}
		renamed := false
		for k := range zeekAttrNames {
			renamed = renamed || strings.Contains(dn, k+"=")
		}
		if !renamed && got != dn {
			t.Fatalf("zeekName(%q) = %q with no type to rename", dn, got)
		}
		r := testResult(t)
		c := r.Captures[0].Connections[0]
		c.Certificates[0].Subject, c.Certificates[0].Issuer, c.Certificates[0].SubjectCN = dn, dn, dn
		for _, format := range []string{"zeek", "ecs"} {
			var b strings.Builder
			if err := Write(&b, format, r, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				if !json.Valid([]byte(l)) {
					t.Fatalf("%s: not a JSON line: %q", format, l)
				}
			}
		}
	})
}

// TestECSAnomalyWithoutTime: a reader's anomaly (no time) leaves
// @timestamp for the pipeline to fill rather than writing an empty date.
func TestECSAnomalyWithoutTime(t *testing.T) {
	b, _ := json.Marshal(ecsAnomalyEvent(facts.Anomaly{Kind: "capture_time_backwards", Offset: 24}))
	if strings.Contains(string(b), "@timestamp") || !strings.Contains(string(b), `"kind":"capture_time_backwards"`) {
		t.Errorf("%s", b)
	}
}
