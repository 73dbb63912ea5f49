package main

import (
	"strings"
	"testing"
)

// stream is go test -json output (test2json) for a package with a passing,
// a failing and two skipping tests, then a package that did not build.
const stream = `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestOK"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"    a_test.go:9: chatter\n"}
{"Action":"pass","Package":"m/a","Test":"TestOK"}
{"Action":"run","Package":"m/a","Test":"TestBad"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"    a_test.go:12: got 1, want 2\n"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"m/a","Test":"TestBad"}
{"Action":"output","Package":"m/a","Test":"TestCorpus","Output":"=== RUN   TestCorpus\n"}
{"Action":"output","Package":"m/a","Test":"TestCorpus","Output":"    a_test.go:20: corpus not found at /x\n"}
{"Action":"output","Package":"m/a","Test":"TestCorpus","Output":"--- SKIP: TestCorpus (0.00s)\n"}
{"Action":"skip","Package":"m/a","Test":"TestCorpus"}
{"Action":"output","Package":"m/a","Test":"TestScripts/x","Output":"    testscript.go:584: WORK=$WORK\n"}
{"Action":"output","Package":"m/a","Test":"TestScripts/x","Output":"        > skip 'not yet'\n"}
{"Action":"output","Package":"m/a","Test":"TestScripts/x","Output":"        \n"}
{"Action":"output","Package":"m/a","Test":"TestScripts/x","Output":"    --- SKIP: TestScripts/x (0.00s)\n"}
{"Action":"skip","Package":"m/a","Test":"TestScripts/x"}
{"Action":"output","Package":"m/a","Output":"FAIL\n"}
{"Action":"output","Package":"m/a","Output":"FAIL\tm/a\t0.01s\n"}
{"Action":"fail","Package":"m/a","Elapsed":0.01}
{"ImportPath":"m/b [m/b.test]","Action":"build-output","Output":"b/b.go:3:1: syntax error\n"}
{"Action":"output","Package":"m/b","Output":"FAIL\tm/b [build failed]\n"}
{"Action":"fail","Package":"m/b","Elapsed":0,"FailedBuild":"m/b [m/b.test]"}
`

func TestSummaryShowsFailuresAndGroupsSkips(t *testing.T) {
	var b strings.Builder
	s := newSummary(&b)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	s.print()
	want := `    a_test.go:12: got 1, want 2
--- FAIL: TestBad (0.00s)
FAIL
FAIL	m/a	0.01s
b/b.go:3:1: syntax error
FAIL	m/b [build failed]

tests: 1 passed, 1 failed, 2 skipped
skipped, by reason:
    1  > skip 'not yet'
       (m/a TestScripts/x)
    1  corpus not found at /x
       (m/a TestCorpus)
1 passed, 1 failed
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
