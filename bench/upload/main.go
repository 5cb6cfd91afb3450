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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"easel/app"
	"easel/bench/internal/benchenv"
	"easel/blob"
)

const (
	serviceKey = "benchservicekey01234"
	webUIPart  = 1000 << 20 // the ESD 1.4.0 WebUI's part size
	parallel   = 4          // the console's concurrent part PUTs
)

func main() {
	size := flag.String("size", "1GiB", "test file size: bytes, or a number with KiB, MiB, GiB, KB, MB or GB")
	part := flag.String("part", "64MiB", "part size of the console upload (a)")
	keep := flag.Bool("keep", false, "keep the checkpoints, the temporary files and the database")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *size, *part, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench-upload:", err)
		os.Exit(1)
	}
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
	root, _ := os.Getwd()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return errors.New("run from the repository root (go run ./bench/upload)")
	}
	tmp, err := os.MkdirTemp("", "easel-bench-upload-")
	if err != nil {
		return err
	}
	dbURL, dropDB, err := benchenv.CreateDatabase(ctx, "upload")
	if err != nil {
		return errors.Join(err, os.RemoveAll(tmp))
	}
	defer func() {
		if keep {
			fmt.Printf("kept %s and the database %s\n", tmp, dbURL)
		} else {
			err = errors.Join(err, dropDB(), os.RemoveAll(tmp))
		}
	}()
	dataDir, gwBin := filepath.Join(tmp, "data"), filepath.Join(root, "bin", "versitygw")
	env := map[string]string{"DATABASE_URL": dbURL, "EASEL_ADDR": "127.0.0.1:0", "EASEL_DATA_DIR": dataDir,
		"EASEL_S3GW_BIN": gwBin, "EASEL_ADMIN_PASSWORD": "bench-admin-password", "EASEL_API_KEY": serviceKey,
		"EASEL_SECRET": "bench-secret-0123456789abcdef", "EASEL_ALLOW_PRIVATE_URLS": "1"}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		return fmt.Errorf("open easel: %w", err)
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

// done ends the timing and the memory sampling of the running phase.
func (b *bench) done() {
	b.took = time.Since(b.before.at)
	b.after = b.mem.sample()
	b.peak = b.mem.track(b.after)
}

// upload creates a checkpoint of the file in parts of partSize, PUTs them
// from workers goroutines, completes, checks and deletes it.
func (b *bench) upload(ctx context.Context, name string, partSize int64, workers int) (string, error) {
	n := int((b.size + partSize - 1) / partSize)
	var created struct {
		Data struct {
			Checkpoint struct {
				ID         string
				S3Location string `json:"s3_location"`
			}
			URLs map[string][]string `json:"s3PresignUrl"`
		}
	}
	_, err := b.call(ctx, http.MethodPost, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_type": "Stable-diffusion",
		"filenames": []map[string]any{{"filename": name, "parts_number": n}}}), http.StatusCreated, &created)
	if err != nil {
		return "", err
	}
	urls := created.Data.URLs[name]
	if len(urls) != n {
		return "", fmt.Errorf("got %d part URLs, want %d", len(urls), n)
	}
	f, err := os.Open(b.src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	begin, tags, errs, sem := time.Now(), make([]map[string]any, n), make([]error, n), make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			off := int64(i) * partSize // each part streamed from the file, not buffered
			h, err := b.call(ctx, http.MethodPut, urls[i], io.NewSectionReader(f, off, min(partSize, b.size-off)), http.StatusOK, nil)
			if err == nil && h.Get("ETag") == "" {
				err = fmt.Errorf("part %d: no ETag", i+1)
			}
			tags[i], errs[i] = map[string]any{"ETag": h.Get("ETag"), "PartNumber": i + 1}, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	completing, id := time.Now(), created.Data.Checkpoint.ID
	_, err = b.call(ctx, http.MethodPut, "/prod/checkpoints/"+id, jsonBody(map[string]any{"status": "Active",
		"multi_parts_tags": map[string]any{name: tags}}), http.StatusOK, nil)
	if err != nil {
		return "", err
	}
	b.done()
	note := fmt.Sprintf("(parts %.2f s, completion %.2f s)", completing.Sub(begin).Seconds(), time.Since(completing).Seconds())
	return note, b.verify(ctx, id, strings.TrimPrefix(created.Data.Checkpoint.S3Location, "s3://"+b.blob.Bucket+"/")+"/"+name, "")
}

// importURL serves the file on loopback, imports it and waits for Active.
func (b *bench) importURL(ctx context.Context, name string) (note string, err error) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(b.src) // a file of its own: sendfile, no shared offset
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, name, time.Time{}, f)
	}))
	defer files.Close()
	stored := time.Duration(0) // when every part was stored (progress = size)
	_, err = b.call(ctx, http.MethodPost, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_type": "Stable-diffusion",
		"urls": []string{files.URL + "/files/" + name}}), http.StatusAccepted, nil)
	if err != nil {
		return "", err
	}
	return note, poll(ctx, func() (bool, error) {
		var list struct {
			Data struct{ Checkpoints []listed }
		}
		if _, err := b.call(ctx, http.MethodGet, "/prod/checkpoints?per_page=100", nil, http.StatusOK, &list); err != nil {
			return false, err
		}
		for _, c := range list.Data.Checkpoints {
			switch {
			case len(c.Name) == 0 || c.Name[0] != name:
			case c.Status == "Initial" && c.Progress == strconv.FormatInt(b.size, 10) && stored == 0:
				stored = time.Since(b.before.at)
			case c.Status == "Active":
				b.done()
				note = "(completion under 100 ms)"
				if stored > 0 {
					note = fmt.Sprintf("(parts stored after %.2f s, Active %.2f s later)", stored.Seconds(), (b.took - stored).Seconds())
				}
				return true, b.verify(ctx, c.ID, strings.TrimPrefix(c.S3Location, "s3://"+b.blob.Bucket+"/")+"/"+name, c.SHA256)
			case c.Status != "Initial":
				return false, fmt.Errorf("import ended %s: %s", c.Status, c.Error)
			}
		}
		return false, nil
	})
}

// listed is a checkpoint of GET /prod/checkpoints.
type listed struct {
	ID, S3Location, Status, SHA256, Error string
	Name                                  []string
	Progress                              string `json:"progress_bytes"`
}

// verify checks the stored object (and the SHA-256 when given), then deletes
// the checkpoint and waits for the job that removes its object.
func (b *bench) verify(ctx context.Context, id, key, sha string) error {
	if n, err := b.blob.Head(ctx, key); err != nil || n != b.size {
		b.bad = append(b.bad, fmt.Sprintf("%s: %d bytes (%v), want %d", key, n, err, b.size))
	}
	if sha != b.sha && sha != "" {
		b.bad = append(b.bad, fmt.Sprintf("%s: sha256 %s, want %s", key, sha, b.sha))
	}
	if b.keep {
		return nil
	}
	_, err := b.call(ctx, http.MethodDelete, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_id_list": []string{id}}), http.StatusNoContent, nil)
	if err != nil {
		return err
	}
	return poll(ctx, func() (bool, error) { _, err := b.blob.Head(ctx, key); return blob.IsNotFound(err), nil })
}

// poll calls f every 100 ms until it is done, fails or ctx ends.
func poll(ctx context.Context, f func() (done bool, err error)) error {
	for {
		if done, err := f(); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call sends one request, to Easel as admin through the service key when
// target is a path, decodes the answer into out when it has the wanted
// status and returns its header.
func (b *bench) call(ctx context.Context, method, target string, body io.Reader, want int, out any) (http.Header, error) {
	header := http.Header{}
	if strings.HasPrefix(target, "/") {
		target, header = b.base+target, http.Header{"X-Api-Key": {serviceKey}, "Username": {"admin"}, "Content-Type": {"application/json"}}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if r, ok := body.(*io.SectionReader); ok {
		req.ContentLength = r.Size()
	}
	req.Header = header
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	switch {
	case err != nil:
	case res.StatusCode != want:
		err = fmt.Errorf("%s %s: %d %.300s", method, req.URL.Path, res.StatusCode, data)
	case out != nil:
		err = json.Unmarshal(data, out)
	}
	return res.Header, err
}

func jsonBody(v any) io.Reader {
	buf, _ := json.Marshal(v)
	return bytes.NewReader(buf)
}

// generate writes size ChaCha8 bytes to path and returns their SHA-256.
func generate(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	src, sum, buf := rand.NewChaCha8([32]byte{'e', 'a', 's', 'e', 'l'}), sha256.New(), make([]byte, 4<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(left, int64(len(buf)))]
		_, _ = src.Read(chunk)
		sum.Write(chunk)
		if _, err := f.Write(chunk); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(sum.Sum(nil)), f.Close()
}

// diskWrite copies the file to dst through a user-space buffer, as the
// gateway writes what it receives (no copy_file_range), with fsync.
func (b *bench) diskWrite(dst string) error {
	in, err := os.Open(b.src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer os.Remove(dst)
	_, err = io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 8<<20))
	err = errors.Join(err, out.Sync(), out.Close())
	b.done()
	return err
}

// warmUp touches n bytes of fresh memory and lets it go. On a VM that hands
// free memory back to its host (virtio-balloon free page reporting), the
// first touch of a page costs a fault on the host: without this, whichever
// phase comes first pays it for all of its page cache (2-4x slower here).
func warmUp(n int64) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

// sampler follows the peak RSS of this process and of the gateway.
type sampler struct {
	pids     [2]string // "self" and the gateway's
	mu       sync.Mutex
	peak     sample
	hwmReset bool
}

type sample struct {
	at       time.Time
	rss, hwm [2]int64   // VmRSS, VmHWM
	cpu      [2]float64 // user + system seconds
	both     int64      // rss[0] + rss[1]
}

func (s *sampler) sample() sample {
	x := sample{at: time.Now()}
	for i, pid := range s.pids {
		status, _ := os.ReadFile("/proc/" + pid + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				x.rss[i] = kb << 10
			case "VmHWM":
				x.hwm[i] = kb << 10
			}
		}
		stat, _ := os.ReadFile("/proc/" + pid + "/stat")
		_, rest, _ := strings.Cut(string(stat), ") ") // the name may hold spaces
		if f := strings.Fields(rest); len(f) > 12 {
			utime, _ := strconv.ParseFloat(f[11], 64)
			stime, _ := strconv.ParseFloat(f[12], 64)
			x.cpu[i] = (utime + stime) / 100 // USER_HZ
		}
	}
	x.both = x.rss[0] + x.rss[1]
	return x
}

// track records x and returns the peaks since the last reset.
func (s *sampler) track(x sample) sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range x.rss {
		s.peak.rss[i] = max(s.peak.rss[i], x.rss[i])
	}
	s.peak.both = max(s.peak.both, x.both)
	return s.peak
}

// reset starts a phase: VmHWM back to the current RSS (clear_refs 5), the
// peaks to the current sample, which it returns.
func (s *sampler) reset() sample {
	ok := true
	for _, pid := range s.pids {
		ok = os.WriteFile("/proc/"+pid+"/clear_refs", []byte("5"), 0) == nil && ok
	}
	x := s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak, s.hwmReset = x, ok
	return x
}

// parseSize reads 1GiB, 128MiB, 500MB, 4096...
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for i, suffix := range []string{"KiB", "MiB", "GiB", "KB", "MB", "GB"} {
		if v, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = strings.TrimSpace(v), []float64{1 << 10, 1 << 20, 1 << 30, 1e3, 1e6, 1e9}[i]
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes, or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	return int64(n * mult), nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }
