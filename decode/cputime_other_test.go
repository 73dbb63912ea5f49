//go:build !unix

package decode

func cpuTime() int64 { return 0 }
