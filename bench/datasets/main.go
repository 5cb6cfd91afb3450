// Command datasets measures training datasets in Easel (`make
// bench-datasets`): a -files-picture dataset of about 1 MiB per picture
// created through the API and uploaded by presigned PUT, -parallel at
// once, against writing the same bytes to the data dir's disk in the same
// run; then the crop of all its pictures. It prints figures; it fails only
// when Easel cannot start, a phase fails or a result is wrong.
//
// Easel runs in-process on a fresh database and the embedded S3 gateway
// (benchenv.Launch), so "Easel" memory is this process: Easel and the load
// generator (which holds the few distinct pictures it sends). Memory is
// VmRSS from /proc, sampled every 20 ms; the gateway is reported apart.
//
// Phases: (a) POST /prod/datasets, the PUTs, PUT /prod/datasets/{name}
// Enabled; (b) the same bytes written as files with fsync, -parallel at
// once; (c) the file job enabling starts (SHA-256 + thumbnail per
// picture), waited for before (d) POST /prod/datasets/{name}/crop to
// 256x256 until every cropped record exists.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"easel/bench/internal/benchenv"
	"easel/store"
)

func main() {
	files := flag.Int("files", 500, "pictures in the dataset (at most 500)")
	parallel := flag.Int("parallel", 8, "uploads (and disk writes) at once")
	flag.Parse()
	benchenv.Main("bench-datasets", func(ctx context.Context) error { return run(ctx, *files, *parallel) })
}

// distinct is how many different pictures the load generator cycles through.
const distinct = 8

// picture is a 592×592 PNG of opaque noise (stored as RGB): about 1 MiB that compresses poorly.
func picture(seed uint64) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 592, 592))
	r := rand.New(rand.NewPCG(seed, seed+1))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func run(ctx context.Context, files, parallel int) error {
	if files < 1 || files > 500 || parallel < 1 {
		return errors.New("need 1 <= -files <= 500 and -parallel >= 1")
	}
	e, stop, err := benchenv.Launch(ctx, "datasets", nil)
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	gw := benchenv.GatewayPID(benchenv.GatewayBin(e.Root), e.DataDir)
	pics := make([][]byte, distinct)
	for i := range pics {
		pics[i] = picture(uint64(i))
	}
	var total int64
	for i := range files {
		total += int64(len(pics[i%distinct]))
	}
	fmt.Printf("Easel datasets benchmark: %d PNG pictures of 592x592 noise, %.1f MB in all (MB = 1e6 bytes), %d at once\n",
		files, float64(total)/1e6, parallel)
	fmt.Printf("GOMAXPROCS %d, NumCPU %d, %s; load average %s; gateway pid %s\n\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), benchenv.Loadavg(), gw)
	mem := newSampler(gw)
	defer mem.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * parallel}}
	name := func(i int) string { return fmt.Sprintf("%03d.png", i) }

	// (a) through the API.
	base := mem.reset()
	t0 := time.Now()
	content := make([]map[string]any, files)
	for i := range content {
		content[i] = map[string]any{"filename": name(i), "name": name(i), "type": "image", "params": map[string]any{}}
	}
	var created struct {
		Data struct {
			URLs map[string]string `json:"s3PresignUrl"`
		} `json:"data"`
	}
	if err := call(ctx, client, http.MethodPost, e.URL+"/prod/datasets", map[string]any{"dataset_name": "bench",
		"prefix": "10_noise", "content": content}, 201, &created); err != nil {
		return err
	}
	err = each(files, parallel, func(i int) error {
		return call(ctx, client, http.MethodPut, created.Data.URLs[name(i)], pics[i%distinct], 200, nil)
	})
	if err != nil {
		return err
	}
	if err := call(ctx, client, http.MethodPut, e.URL+"/prod/datasets/bench", map[string]any{"status": "Enabled"}, 200, nil); err != nil {
		return err
	}
	api := time.Since(t0)
	peakA := mem.peak()
	fmt.Printf("(a) API create + %d presigned PUTs + enable: %6.2f s  %7.1f MB/s  Easel RSS %s → peak %s (growth %+.1f MB); gateway peak %s\n",
		files, api.Seconds(), float64(total)/1e6/api.Seconds(), mbs(base.easel), mbs(peakA.easel), mb(peakA.easel-base.easel), mbs(peakA.gateway))

	// (b) the disk floor.
	dir := filepath.Join(e.DataDir, "raw-disk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t0 = time.Now()
	err = each(files, parallel, func(i int) error { return writeSync(filepath.Join(dir, name(i)), pics[i%distinct]) })
	if err != nil {
		return err
	}
	disk := time.Since(t0)
	fmt.Printf("(b) same bytes to disk with fsync:          %6.2f s  %7.1f MB/s  (API reaches %.0f%% of it)\n",
		disk.Seconds(), float64(total)/1e6/disk.Seconds(), 100*disk.Seconds()/api.Seconds())
	_ = os.RemoveAll(dir)

	// (c) the file job that Enabled started.
	if err := waitRecords(ctx, e, "bench", files, true); err != nil {
		return err
	}
	facts := time.Since(t0.Add(-api))
	fmt.Printf("(c) SHA-256 + thumbnail of every picture done %.2f s after the upload started (it ran during (b))\n", facts.Seconds())

	// (d) the crop.
	runtime.GC()
	base = mem.reset()
	t0 = time.Now()
	if err := call(ctx, client, http.MethodPost, e.URL+"/prod/datasets/bench/crop", map[string]any{"max_resolution": "256x256"}, 202, nil); err != nil {
		return err
	}
	if err := waitRecords(ctx, e, "bench_256x256", files, true); err != nil {
		return err
	}
	crop := time.Since(t0)
	peakD := mem.peak()
	fmt.Printf("(d) crop to 256x256 (Lanczos, PNG, + thumbnails): %6.2f s  %6.1f pictures/s  Easel RSS %s → peak %s (growth %+.1f MB); gateway peak %s\n",
		crop.Seconds(), float64(files)/crop.Seconds(), mbs(base.easel), mbs(peakD.easel), mb(peakD.easel-base.easel), mbs(peakD.gateway))
	return checkCrop(ctx, e)
}

// checkCrop fails unless a cropped picture is a 256×256 PNG.
func checkCrop(ctx context.Context, e *benchenv.Easel) error {
	r, err := e.Blob.Get(ctx, "dataset/bench_256x256/10_noise/000.png")
	if err != nil {
		return err
	}
	defer r.Close()
	cfg, format, err := image.DecodeConfig(r)
	if err != nil || format != "png" || cfg.Width != 256 || cfg.Height != 256 {
		return fmt.Errorf("cropped 000.png: %s %dx%d %v", format, cfg.Width, cfg.Height, err)
	}
	return nil
}

// waitRecords polls until dataset has n records (with their SHA-256 when hashed).
func waitRecords(ctx context.Context, e *benchenv.Easel, dataset string, n int, hashed bool) error {
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		recs, err := store.DatasetFiles(ctx, e.Store.DB(), dataset)
		if err != nil {
			return err
		}
		done := 0
		for _, r := range recs {
			if !hashed || r.SHA256 != "" {
				done++
			}
		}
		if done >= n {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: timed out waiting for %d records", dataset, n)
}

// each runs f(0..n-1), at most parallel at once; the first error wins.
func each(n, parallel int, f func(i int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// call sends body (JSON, or raw bytes) and wants status; out gets the JSON answer.
func call(ctx context.Context, c *http.Client, method, url string, body any, want int, out any) error {
	raw, isRaw := body.([]byte)
	if !isRaw {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if !isRaw {
		req.Header = benchenv.As("admin")
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, answer)
	}
	if out != nil {
		return json.Unmarshal(answer, out)
	}
	return nil
}

func writeSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Sync(), f.Close())
}
