# Targets for developers and CI. `make test` is the test command the README
# gives; `.ci/run` calls `make ci`, which runs it.
GO ?= go
PKGS = ./...

.PHONY: test race vet fmt doccheck interop fuzz fuzz-smoke load bench cover tidy nocgo demo ci catalog-check oldgo installcheck

# The race detector needs cgo, and cgo a C compiler: without one (go env
# CGO_ENABLED says 0) the tests run without -race, and say so.
test: vet fmt
	@if [ "$$($(GO) env CGO_ENABLED)" = 1 ]; then \
		echo "$(GO) test -race -count=1 $(PKGS)"; $(GO) test -race -count=1 $(PKGS); \
	else \
		echo "make test: no C compiler (go env CGO_ENABLED is 0), so no race detector: running the tests without -race"; \
		echo "$(GO) test -count=1 $(PKGS)"; $(GO) test -count=1 $(PKGS); \
	fi

race:
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	@out="$$(gofmt -l . || true)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every Go snippet in README.md and docs/ compiles against the real API and
# the runnable ones succeed against the emulator.
doccheck:
	python3 scripts/doccheck.py

# Real WeChat Pay clients (wechatpay-go, wechatpay-axios-plugin) against
# `wxpay emulator`; needs Node.js and npm.
interop:
	./interop/run.sh

# The crypto/rsa fallback, as a user without cgo gets it.
nocgo:
	CGO_ENABLED=0 $(GO) build $(PKGS)
	CGO_ENABLED=0 $(GO) test -count=1 $(PKGS)

# Every fuzz target for FUZZTIME (default 30s) each.
fuzz:
	FUZZTIME=$${FUZZTIME:-30s} ./scripts/fuzz.sh

fuzz-smoke:
	FUZZTIME=3s ./scripts/fuzz.sh

# 256 goroutines, several thousand calls against the emulator under -race.
load:
	WXPAY_LOAD_CALLS=$${WXPAY_LOAD_CALLS:-8192} $(GO) test -race -count=1 -run '^TestLoad$$' -v .

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

cover:
	$(GO) test -coverprofile=cover.out $(PKGS) && $(GO) tool cover -func=cover.out | tail -1

# Fails when go.mod or go.sum are not tidy, in this module and in the bench
# and interop modules beside it (they require this one by a replace).
tidy:
	@for m in . bench interop/go; do \
		if ! (cd $$m && $(GO) mod tidy -diff >/dev/null); then \
			echo "$$m: go.mod/go.sum are not tidy (cd $$m && go mod tidy):"; (cd $$m && $(GO) mod tidy -diff); exit 1; fi; \
	done; echo "go.mod and go.sum tidy in . bench interop/go"

demo:
	$(GO) run ./cmd/wxpay demo

# The committed catalogue (catalog/) is what the generator makes of the
# WeChat Pay OpenAPI description at OPENAPI (default: $WXPAY_OPENAPI, else
# ../shared/openapi): regenerated into a temporary
# directory and compared (the data uncompressed). Skipped when the
# description is not there.
OPENAPI ?= $(or $(WXPAY_OPENAPI),../shared/openapi)
catalog-check:
	@if [ ! -d "$(OPENAPI)/v3" ]; then echo "catalog-check: skipped: no OpenAPI description at $(OPENAPI)"; exit 0; fi; \
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) run ./catalog/internal/gen -out "$$tmp" "$(OPENAPI)" 2>"$$tmp/log" || { cat "$$tmp/log"; exit 1; }; \
	gzip -dc catalog/catalog.json.gz > "$$tmp/committed.json" && gzip -dc "$$tmp/catalog.json.gz" > "$$tmp/fresh.json" && \
	cmp -s "$$tmp/committed.json" "$$tmp/fresh.json" && cmp -s catalog/catalog_gen.go "$$tmp/catalog_gen.go" && \
	cmp -s catalog/NOTICE "$$tmp/NOTICE" || \
	{ echo "catalog-check: catalog/ differs from a fresh generation from $(OPENAPI): run go generate ./catalog"; exit 1; }; \
	echo "catalog-check: the committed catalogue matches $(OPENAPI)"

# The oldest Go the module declares (go.mod's go line) builds and passes
# the tests; the go command fetches that toolchain from the module proxy.
OLDGO ?= go$(shell sed -n 's/^go //p' go.mod)
oldgo:
	GOTOOLCHAIN=$(OLDGO) $(GO) version
	GOTOOLCHAIN=$(OLDGO) $(GO) vet $(PKGS)
	GOTOOLCHAIN=$(OLDGO) $(GO) test -count=1 $(PKGS)

# The README's Install section, done as written in a fresh module, and its
# Quick start run there against `wxpay emulator` started as its own process.
installcheck:
	./scripts/installcheck.sh

ci: tidy catalog-check nocgo oldgo installcheck demo doccheck interop fuzz-smoke test

# Side by side with the other Go SDKs (bench/, a module of its own; see
# docs/performance.md). BENCH_D is the measured time per client and
# configuration; BENCH_FLAGS takes more flags of bench, e.g.
# BENCH_FLAGS='-conc 16 -body 100' for the main table only. Standard output
# is a Markdown report, machine line first, ready for docs/performance.md
# (make bench-compare > results.md); progress goes to standard error.
BENCH_D ?= 3s
BENCH_FLAGS ?=
BENCH_BILL = -run '^$$' -bench 'DownloadBill/1GiB' -benchtime 1x .
.PHONY: bench-compare
bench-compare:
	@cd bench && $(GO) run . -d $(BENCH_D) $(BENCH_FLAGS)
	@$(GO) test $(BENCH_BILL) 2>&1 | (cd bench && $(GO) run . -gobench-md "go test $(BENCH_BILL)")
