package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"easel/workerproto"
)

// Config is what a Worker needs. Zero durations take the defaults.
type Config struct {
	// Server is Easel's URL; Key the worker key of one pool.
	Server string
	Key    string
	// Name is how the console shows this worker (the host name by default).
	Name string
	// ModelsDir is the WebUI's models folder; CacheSize bounds the files
	// the worker downloads into it.
	ModelsDir string
	CacheSize int64
	Backend   Backend
	// Grace is how long a running job may go on after shutdown begins
	// (30s).
	Grace time.Duration
	// HTTP talks to Easel and the object store (a client without a
	// timeout by default: the calls carry their own).
	HTTP *http.Client
	Log  *slog.Logger
	// GPU names the GPU and its memory (nvidia-smi by default).
	GPU func(context.Context) (name string, memoryMiB int64)
	// RetryBase and RetryMax bound the backoff between retries (1s, 30s).
	RetryBase, RetryMax time.Duration
	// DownloadAttempts is how often a model download is tried (4).
	DownloadAttempts int
	// InterruptWait is how long to wait for the WebUI to answer after an
	// interrupt (30s).
	InterruptWait time.Duration
	// SDScripts is the kohya sd-scripts folder the worker trains LoRAs
	// with, SimulatorSDScripts for the training simulator, or "" (the
	// worker takes no trainings).
	SDScripts string
	// TrainDir is where trainings are prepared and run (a folder under the
	// system's temporary folder by default); each gets its own subfolder,
	// removed at its end.
	TrainDir string
	// SimTrainTime is how long a simulated training takes (20s).
	SimTrainTime time.Duration
	// TrainGrace is how long sd-scripts has to exit after SIGTERM before
	// it is killed (10s).
	TrainGrace time.Duration
}

// SimulatorSDScripts as --sd-scripts makes the worker simulate trainings.
const SimulatorSDScripts = "sim"

// trainer is what the worker says it trains with.
func (c *Config) trainer() string {
	switch c.SDScripts {
	case "":
		return workerproto.TrainerNone
	case SimulatorSDScripts:
		return workerproto.TrainerSimulator
	}
	return workerproto.TrainerSDScripts
}

// Validate reports the first missing or wrong setting.
func (c *Config) Validate() error {
	switch {
	case c.Server == "":
		return errors.New("--server is required (Easel's URL)")
	case c.Key == "":
		return errors.New("a worker key is required: --key or EASEL_WORKER_KEY")
	case c.ModelsDir == "":
		return errors.New("--models-dir is required (the WebUI's models folder)")
	case c.CacheSize <= 0:
		return errors.New("--cache-size must be positive")
	case c.Backend == nil:
		return errors.New("no backend")
	}
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not an http(s) URL", c.Server)
	}
	if c.SDScripts != "" && c.SDScripts != SimulatorSDScripts {
		if _, err := os.Stat(filepath.Join(c.SDScripts, "train_network.py")); err != nil {
			return fmt.Errorf("--sd-scripts %s is not a kohya sd-scripts folder (no train_network.py): %w", c.SDScripts, err)
		}
	}
	return nil
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Grace, DefaultGrace)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 30*time.Second)
	def(&c.InterruptWait, 30*time.Second)
	def(&c.SimTrainTime, 20*time.Second)
	def(&c.TrainGrace, 10*time.Second)
	if c.TrainDir == "" {
		c.TrainDir = filepath.Join(os.TempDir(), "easel-train")
	}
	if c.DownloadAttempts <= 0 {
		c.DownloadAttempts = 4
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.GPU == nil {
		c.GPU = nvidiaSMI
	}
	c.Server = strings.TrimRight(c.Server, "/")
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize reads a byte count such as "200GiB", "500GB", "1.5T" or
// "1048576"; an error for anything else.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a size (say 200GiB)", s)
	}
	return int64(v * float64(mult)), nil
}

// DefaultGrace is Config.Grace's default.
const DefaultGrace = 30 * time.Second
