// Package profile writes the CPU and heap profiles of a run
// (--cpuprofile, --memprofile).
package profile

import (
	"github.com/tlsscope/tlsscope/internal/pathcause"

	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Start starts a CPU profile into cpu and arranges a heap profile into
// mem ("" for neither); the function it returns stops and writes them.
func Start(cpu, mem string) (func(), error) {
	stop := func() {}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %v", pathcause.Of(err))
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %v", err)
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return nil, fmt.Errorf("--memprofile: %v", pathcause.Of(err))
		}
		prev := stop
		stop = func() {
			prev()
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	return stop, nil
}
