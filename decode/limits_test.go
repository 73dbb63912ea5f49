package decode

import (
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// TestCapsNamedAndCounted: a connection that goes past maxSecrets and
// maxHTTP keeps that many in its Connection, hands every one to the
// Handler, and reports each cap once as its named anomaly, counted in
// Stats.
func TestCapsNamedAndCounted(t *testing.T) {
	var secrets, messages int
	kinds := map[string]int{}
	a := New(Config{}, Handler{
		Secret:  func(*facts.Connection, facts.Secret) { secrets++ },
		HTTP:    func(*facts.Connection, facts.HTTPMessage) { messages++ },
		Anomaly: func(an facts.Anomaly) { kinds[an.Kind]++ },
	})
	s := &stream{a: a}
	s.ent.Flow = s
	s.conn.ID = 1
	ts := time.Unix(1e9, 0)
	for i := 0; i < maxSecrets+10; i++ {
		s.secret(facts.Secret{Kind: "plaintext-credentials", Time: ts})
	}
	for i := 0; i < maxHTTP+10; i++ {
		s.http(facts.HTTPMessage{Time: ts, Method: "GET"})
	}
	if len(s.conn.Secrets) != maxSecrets || len(s.conn.HTTP) != maxHTTP {
		t.Errorf("kept %d secrets and %d messages, want %d and %d", len(s.conn.Secrets), len(s.conn.HTTP), maxSecrets, maxHTTP)
	}
	if secrets != maxSecrets+10 || messages != maxHTTP+10 {
		t.Errorf("Handler saw %d secrets and %d messages", secrets, messages)
	}
	st := a.Stats()
	for _, k := range []string{anomalySecretsLimit, anomalyHTTPLimit} {
		if kinds[k] != 1 || st.Anomalies[k] != 1 {
			t.Errorf("%s: %d records, %d counted; want one of each", k, kinds[k], st.Anomalies[k])
		}
	}
	if len(kinds) != 2 {
		t.Errorf("anomalies %v", kinds)
	}
}

// TestAnomalyRecordsCapped: past maxAnomalyRecords of one kind, records
// are held back but counted, and the first one held back is reported as
// anomaly_records_limit naming the kind.
func TestAnomalyRecordsCapped(t *testing.T) {
	records := map[string]int{}
	var detail string
	a := New(Config{}, Handler{Anomaly: func(an facts.Anomaly) {
		records[an.Kind]++
		if an.Kind == anomalyRecordsLimit {
			detail = an.Detail
		}
	}})
	for i := 0; i < maxAnomalyRecords+100; i++ {
		a.anomaly(facts.Anomaly{Kind: "packet_truncated", Offset: -1})
	}
	st := a.Stats()
	if records["packet_truncated"] != maxAnomalyRecords || st.Anomalies["packet_truncated"] != maxAnomalyRecords+100 {
		t.Errorf("%d records, %d counted", records["packet_truncated"], st.Anomalies["packet_truncated"])
	}
	if records[anomalyRecordsLimit] != 1 || st.Anomalies[anomalyRecordsLimit] != 1 || detail != "packet_truncated" {
		t.Errorf("%s: %d records, %d counted, detail %q", anomalyRecordsLimit, records[anomalyRecordsLimit], st.Anomalies[anomalyRecordsLimit], detail)
	}
}
