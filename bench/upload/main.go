// Command upload measures how fast a model file gets into Easel's embedded
// S3 gateway and what it costs in memory (`make bench-upload`). It prints
// figures; it fails only when Easel cannot start, a phase fails or a stored
// file is wrong.
//
// It starts Easel in-process as bench/api does (a fresh database on the
// machine's Postgres, bin/versitygw over a temporary data dir, private URLs
// allowed), writes a -size file of ChaCha8 bytes, then runs, each after a
// sync of the page cache, a warm-up (see warmUp) and a GC:
//
//	(a) the console's upload: presigned parts of -part bytes, 4 PUTs in
//	    parallel, then PUT /prod/checkpoints/{id} to complete;
//	(b) the ESD 1.4.0 WebUI's: 1000 MiB parts one after the other, then the
//	    same completion;
//	(c) a write of the same bytes into the data dir's filesystem with fsync
//	    (the physical floor);
//	(d) a URL import from a loopback server, from the POST to status Active
//	    (GET /prod/checkpoints every 100 ms).
//
// Per phase: MB/s (MB = 1e6 bytes), CPU seconds, and the RSS of this process
// (Easel and the load generator, which streams parts from the file) and of
// the gateway, sampled every 50 ms from /proc/<pid>/status: before, peak,
// growth, and VmHWM (reset at the phase start through clear_refs where the
// kernel allows). The objects are checked (size; SHA-256 of the import) and
// the checkpoints deleted after each phase, outside the timing. Only
// 127.0.0.1 is used; files and database are removed at the end unless -keep.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"easel/bench/internal/benchenv"
	"easel/blob"
)

const (
	webUIPart = 1000 << 20 // the ESD 1.4.0 WebUI's part size
	parallel  = 4          // the console's concurrent part PUTs
)

func main() {
	size := flag.String("size", "1GiB", "test file size: bytes, or a number with KiB, MiB, GiB, KB, MB or GB")
	part := flag.String("part", "64MiB", "part size of the console upload (a)")
	keep := flag.Bool("keep", false, "keep the checkpoints, the temporary files and the database")
	flag.Parse()
	benchenv.Main("bench-upload", func(ctx context.Context) error {
		return run(ctx, *size, *part, *keep)
	})
}

type bench struct {
	client              *http.Client
	base                string // Easel's URL
	blob                *blob.Client
	src, sha            string // the test file and its SHA-256
	size                int64
	keep                bool
	bad                 []string // verification failures
	mem                 *sampler
	took                time.Duration // of the running phase
	before, peak, after sample        // its memory
}

func run(ctx context.Context, sizeArg, partArg string, keep bool) (err error) {
	size, err1 := parseSize(sizeArg)
	part, err2 := parseSize(partArg)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if size < 1 || part < blob.MinPartSize || (size+part-1)/part > 100 || (size+webUIPart-1)/webUIPart > 100 {
		return errors.New("need -size > 0, -part >= 5 MiB and at most 100 parts per upload")
	}
	root, dbURL, tmp, cleanup, err := benchenv.Prepare(ctx, "upload")
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			fmt.Printf("kept %s and the database %s\n", tmp, dbURL)
		} else {
			err = errors.Join(err, cleanup())
		}
	}()
	dataDir, gwBin := filepath.Join(tmp, "data"), benchenv.GatewayBin(root)
	env := benchenv.Env(root, dbURL, dataDir)
	env["EASEL_ALLOW_PRIVATE_URLS"] = "1"
	a, err := benchenv.Open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = a.Web.HTTPServer("") // the production timeouts
	srv.Start()
	defer srv.Close()
	gw := benchenv.GatewayPID(gwBin, dataDir)
	if gw == "" {
		return errors.New("gateway process not found in /proc")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * parallel, WriteBufferSize: 256 << 10}
	defer tr.CloseIdleConnections()
	b := &bench{client: &http.Client{Transport: tr}, base: srv.URL, blob: a.Blob, src: filepath.Join(tmp, "source.bin"),
		size: size, keep: keep, mem: &sampler{pids: [2]string{"self", gw}}}
	start := time.Now()
	if b.sha, err = generate(b.src, size); err != nil {
		return err
	}
	fmt.Printf("Easel upload benchmark: %d bytes (%.1f MB, %.1f MiB) of ChaCha8 bytes, generated in %.1f s\n",
		size, float64(size)/1e6, float64(size)/(1<<20), time.Since(start).Seconds())
	fmt.Printf("MB = 1e6 bytes; GOMAXPROCS %d, NumCPU %d, %s; load average %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), benchenv.Loadavg())
	fmt.Printf("data dir %s; Easel and the load generator: pid %d; gateway: pid %s\n\n", dataDir, os.Getpid(), gw)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		for range time.Tick(50 * time.Millisecond) {
			if sctx.Err() != nil {
				return
			}
			b.mem.track(b.mem.sample())
		}
	}()

	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	phases := []struct {
		name string
		f    func(context.Context) (string, error)
	}{
		{fmt.Sprintf("(a) console: %d x %.0f MiB, %d in parallel", (size+part-1)/part, mib(part), parallel),
			func(ctx context.Context) (string, error) { return b.upload(ctx, "bench-a.safetensors", part, parallel) }},
		{fmt.Sprintf("(b) ESD WebUI: %d x %.0f MiB, sequential", (size+webUIPart-1)/webUIPart, mib(min(size, webUIPart))),
			func(ctx context.Context) (string, error) { return b.upload(ctx, "bench-b.safetensors", webUIPart, 1) }},
		{"(c) disk write + fsync (floor)", func(context.Context) (string, error) {
			return "", b.diskWrite(filepath.Join(dataDir, "raw-write.bin"))
		}},
		{"(d) URL import from 127.0.0.1", func(ctx context.Context) (string, error) { return b.importURL(ctx, "bench-d.safetensors") }},
	}
	var rates [4]float64
	var growth [4]int64
	for i, p := range phases {
		syscall.Sync()
		warmUp(min(2*size+256<<20, 4<<30))
		debug.FreeOSMemory()
		time.Sleep(200 * time.Millisecond)
		pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		b.before = b.mem.reset()
		note, err := p.f(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		rates[i], growth[i] = float64(size)/1e6/b.took.Seconds(), b.peak.both-b.before.both
		fmt.Printf("%-43s %6.2f s %7.1f MB/s  %s\n", p.name, b.took.Seconds(), rates[i], note)
		for j, who := range []string{"Easel", "gateway"} {
			fmt.Printf("    %-8s CPU %5.2f s, RSS %5.1f -> peak %5.1f MB (%+5.1f), VmHWM %5.1f MB\n", who, b.after.cpu[j]-b.before.cpu[j],
				mb(b.before.rss[j]), mb(b.peak.rss[j]), mb(b.peak.rss[j]-b.before.rss[j]), mb(b.after.hwm[j]))
		}
		fmt.Printf("    both together: RSS %+.1f MB; load average %s\n", mb(growth[i]), benchenv.Loadavg())
	}
	verdict := map[bool]string{true: "met", false: "NOT MET"}
	fmt.Printf("\nratios: (a)/(c) = %.2f   (a)/(b) = %.2f\n", rates[0]/rates[2], rates[0]/rates[1])
	fmt.Printf("targets: (a) >= 0.7 x (c); server RSS grows < 64 MB during (a) and the URL import\n")
	fmt.Printf("  (a)/(c) = %.2f: %s\n", rates[0]/rates[2], verdict[rates[0] >= 0.7*rates[2]])
	for _, i := range []int{0, 3} {
		fmt.Printf("  RSS growth of Easel + gateway during %s: %+.1f MB: %s\n", phases[i].name[:3], mb(growth[i]), verdict[growth[i] < 64e6])
	}
	if !b.mem.hwmReset {
		fmt.Println("  (VmHWM could not be reset: the figures are since each process started)")
	}
	if len(b.bad) > 0 {
		return fmt.Errorf("stored files are wrong:\n  %s", strings.Join(b.bad, "\n  "))
	}
	fmt.Printf("verified: the objects of (a), (b) and (d) held %d bytes; the SHA-256 of (d) matched the file\n", size)
	return nil
}
