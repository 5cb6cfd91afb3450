# Easel — see README.md.
GO ?= go
GOFILES := $(shell find . -name '*.go' -not -path './tools/*' -not -path './.data/*') $(shell find web static migrations policy -type f -not -name '*.go')

.PHONY: all build run postgres-binaries demo test templ check bench-api bench-upload bench-dispatch bench-list bench-workers bench-datasets clean

all: build

build: bin/easel bin/versitygw

bin/easel: go.mod go.sum $(GOFILES)
	$(GO) build -o bin/easel .

# The embedded S3 gateway, pinned in its own module (tools/s3gw).
bin/versitygw: tools/s3gw/go.mod tools/s3gw/go.sum tools/s3gw/tools.go
	cd tools/s3gw && $(GO) build -o ../../bin/versitygw github.com/versity/versitygw/cmd/versitygw

# Serve the console and the API on the embedded default: a private Postgres
# cluster and a local S3 gateway under ./.data, no configuration.
run: build postgres-binaries
	./bin/easel serve

# The embedded default runs its own cluster from Debian's PostgreSQL server
# binaries: install them when missing (as root; otherwise say the command).
# No system cluster is created for them: Easel's lives under .data/pg.
postgres-binaries:
	@if [ -z "$$DATABASE_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "== installing the PostgreSQL server binaries (apt-get install postgresql)"; \
	    mkdir -p /etc/postgresql-common; \
	    [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold postgresql >/dev/null; \
	  else \
	    echo "Easel's embedded database needs the PostgreSQL server binaries. Install them with:"; \
	    echo "  sudo apt-get install -y postgresql"; \
	    exit 1; \
	  fi; \
	fi

# make run plus the A1111 simulator (easel sim-webui, test pictures, not
# Stable Diffusion) registered as the WebUI pool "sim": create an endpoint on
# it in the console to see the whole flow without a GPU. A WebUI pool runs
# only the models its members have: copy a model file you upload to Easel
# into .data/sim-models/Stable-diffusion/ (Lora/, VAE/) as well; Easel
# asks a member to rescan when a job needs a file it does not list.
demo: build postgres-binaries
	@mkdir -p .data/sim-models/Stable-diffusion .data/sim-models/Lora .data/sim-models/VAE
	@bash -c 'set -m; ./bin/easel sim-webui --addr 127.0.0.1:7861 --delay 1s --models-dir .data/sim-models --switch-delay 1s & sim=$$!; \
	  trap "kill $$sim 2>/dev/null" EXIT INT TERM; \
	  EASEL_WEBUI_POOLS=sim=http://127.0.0.1:7861 ./bin/easel serve'

# The whole suite: real Postgres (127.0.0.1:5432 or TEST_DATABASE_URL),
# real S3 (versitygw) and headless Chromium for the browser tests.
test: bin/versitygw
	$(GO) test -count=1 -timeout 20m ./...

# Regenerate the templ components (committed *_templ.go).
templ:
	$(GO) tool templ generate -path views

# Static checks CI runs: formatting, vet, staticcheck, generated files up to date.
check:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool templ generate -path views
	git diff --exit-code -- views

bench-api: build
	$(GO) run ./bench/api

bench-upload: build
	$(GO) run ./bench/upload

bench-datasets: build
	$(GO) run ./bench/datasets

bench-dispatch: build
	$(GO) run ./bench/dispatch

bench-list: build
	$(GO) run ./bench/list

bench-workers: build
	$(GO) run ./bench/workers

clean:
	rm -rf bin
