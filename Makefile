# tlsscope: see README.md. Every target works on a fresh Debian 12 machine
# with Go installed; `make captures` needs root (it records on lo).
GO       ?= go
BIN      := bin/tlsscope
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/tlsscope/tlsscope.version=$(VERSION)
export CGO_ENABLED ?= 0

.PHONY: all build run test test-short bench bench-capture soak fuzz fuzz-short lint clean

# `make captures` (records testdata/pcaps, needs root) lives beside its script.
-include scripts/captures/Makefile.inc
-include scripts/handovercapture/Makefile.inc
-include scripts/quiccapture/Makefile.inc
-include scripts/dtlscapture/Makefile.inc
-include scripts/tunnelcapture/Makefile.inc

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tlsscope

# Analyse every capture bundled in testdata/pcaps.
run: build
	./$(BIN) --ca-file testdata/pcaps/ca.pem testdata/pcaps

# The capture and decode tests run again as a 386 build (Go runs it on
# amd64 natively): every length from the wire must be range-checked
# before it becomes a 32-bit int. -short keeps that second run small.
test:
	$(GO) vet $(PKGS)
	$(GO) run ./scripts/testsummary -count=1 -timeout 30m $(PKGS)
	GOARCH=386 $(GO) run ./scripts/testsummary -short -count=1 -timeout 30m ./capture/... ./decode/...
	$(MAKE) --no-print-directory fuzz-short

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Whole-program benchmark beside Suricata, ndpiReader, tshark and tcpdump on a
# generated capture (root: it records on lo); rewrites BENCHMARKS.md.
bench-capture:
	./scripts/bench.sh

# Live capture under load on lo (root); rewrites BENCHMARKS.md's
# "## Live capture soak" section.
SOAKTIME ?= 60s
soak:
	$(GO) run ./scripts/soak -duration $(SOAKTIME) -benchmarks BENCHMARKS.md

# Every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m for long runs).
FUZZTIME ?= 1m
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# CI runs each target briefly on top of the seed corpora that `go test` runs.
fuzz-short:
	./scripts/fuzz.sh 10s

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
