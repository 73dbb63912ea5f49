// Package robust holds the whole-pipeline robustness tests of tlsscope:
// hostile and broken captures (floods of half-open connections, records
// and messages with absurd lengths, damaged capture files, mutated copies
// of real captures) are run through capture, decode, rules and report, and
// must finish without a panic, a hang, a leaked goroutine or unbounded
// memory, with the damage counted as anomalies. FuzzPipeline fuzzes the
// same path from raw capture bytes. Regression inputs for crashes found
// live in testdata/crashers.
//
// The package has no code outside its tests.
package robust
