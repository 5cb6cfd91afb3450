package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"easel/actions"
	"easel/blob"
	"easel/embedded"
	"easel/gpu"
	"easel/jobs"
	"easel/migrations"
	"easel/netguard"
	"easel/policy"
	"easel/secrets"
	"easel/store"
	"easel/web"
)

// App is a started Easel: its data services, its domain and its server.
type App struct {
	Config Config
	Log    *slog.Logger
	Store  *store.Store
	Policy *policy.Policy
	Blob   *blob.Client
	Web    *web.Server
	River  *river.Client[pgx.Tx]
	GPU    *gpu.Registry
	// Actions are what Easel does; before Open completes (the command
	// line), only those on users, roles and keys work.
	Actions *actions.Set
	// Secret is EASEL_SECRET or the generated one.
	Secret []byte

	pool          *pgxpool.Pool
	sealer        *secrets.Sealer
	stopFollowing context.CancelFunc
	stopWorkers   context.CancelFunc
	pg            *embedded.Postgres
	gateway       *embedded.S3Gateway
}

// Open starts what cfg asks for (embedded Postgres and S3 when no external
// ones are configured), migrates the schema, seeds the first start and
// builds the HTTP server. Messages for the operator (a generated password)
// go to out.
func Open(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (_ *App, err error) {
	a, err := OpenDatabase(ctx, cfg, log, out)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Blob, err = a.openBlob(ctx); err != nil {
		return nil, err
	}
	urls := netguard.Policy{AllowPrivate: cfg.AllowPrivate}
	if a.GPU, err = a.openGPU(ctx); err != nil {
		return nil, err
	}
	a.River, err = jobs.NewClient(a.pool, jobs.Deps{Store: a.Store, Blob: a.Blob, GPU: a.GPU, Log: log,
		Cfg: jobs.Config{MaxModelBytes: cfg.MaxModelBytes, URLs: urls, UploadTTL: cfg.UploadTTL,
			ReconcileEvery: cfg.ReconcileEvery, JobTimeout: cfg.JobTimeout}})
	if err != nil {
		return nil, err
	}
	if a.pg.Owned() {
		// Nobody else uses this private cluster: a job still marked running
		// belonged to an easel that was killed; run it again now rather than
		// after River's rescue delay.
		if err := jobs.RequeueRunning(ctx, a.Store); err != nil {
			return nil, err
		}
	}
	if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start jobs: %w", err)
	}
	a.Actions = actions.New(actions.Deps{Store: a.Store, Policy: a.Policy, Sealer: a.sealer,
		RevealPasswords: cfg.RevealPasswords, Blob: a.Blob, Jobs: a.River, URLs: urls, GPU: a.GPU,
		WorkerPools: cfg.WorkerPools, Workers: a.workerTimings(), TrainInstanceType: cfg.TrainInstanceType, Log: log})
	workCtx, stopWork := context.WithCancel(context.Background())
	a.stopWorkers = stopWork
	go a.Actions.Workers.Follow(workCtx, log)
	a.Web, err = web.New(web.Config{APIBase: cfg.APIBase, APIVersion: cfg.APIVersion, Secret: a.Secret,
		TrustedProxies: cfg.TrustedProxies, WorkerPools: cfg.WorkerPools},
		web.Deps{Store: a.Store, Policy: a.Policy, Blob: a.Blob, Actions: a.Actions, Log: log})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// OpenDatabase is Open without the object store and the server: what the
// admin CLI needs.
func OpenDatabase(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (_ *App, err error) {
	a := &App{Config: cfg, Log: log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if a.Secret, err = loadSecret(cfg); err != nil {
		return nil, err
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		if a.pg, err = embedded.StartPostgres(ctx, filepath.Join(cfg.DataDir, "pg"), log); err != nil {
			return nil, err
		}
		dbURL = a.pg.URL
	}
	if a.pool, err = openPool(ctx, dbURL); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrations.Up(ctx, a.pool); err != nil {
		return nil, err
	}
	a.Store = store.New(a.pool)
	if err := bootstrap(ctx, a.Store, cfg, out); err != nil {
		return nil, err
	}
	if a.Policy, err = policy.New(ctx, a.Store); err != nil {
		return nil, err
	}
	followCtx, stopFollowing := context.WithCancel(context.Background())
	a.stopFollowing = stopFollowing
	go a.Policy.Follow(followCtx, log)
	if a.sealer, err = secrets.NewSealer(a.Secret); err != nil {
		return nil, err
	}
	a.Actions = actions.New(actions.Deps{Store: a.Store, Policy: a.Policy, Sealer: a.sealer,
		RevealPasswords: cfg.RevealPasswords, WorkerPools: cfg.WorkerPools, Workers: a.workerTimings(), Log: log})
	if cfg.APIKey != "" {
		if err := a.Actions.Keys.Seed(ctx, cfg.APIKey); err != nil {
			return nil, err
		}
		log.Info("EASEL_API_KEY is a service key: it may act as any user (see API keys in the console)")
	}
	return a, nil
}

func (a *App) openBlob(ctx context.Context) (*blob.Client, error) {
	bc := blob.Config{Endpoint: a.Config.S3Endpoint, PublicURL: a.Config.S3PublicURL, Region: a.Config.Region,
		Bucket: a.Config.S3Bucket, AccessKey: a.Config.S3AccessKey, SecretKey: a.Config.S3SecretKey}
	if bc.Endpoint == "" {
		g, err := embedded.StartS3Gateway(ctx, filepath.Join(a.Config.DataDir, "s3"), a.Config.S3GatewayBin, a.Log)
		if err != nil {
			return nil, err
		}
		a.gateway = g
		bc.Endpoint, bc.AccessKey, bc.SecretKey = g.Endpoint, g.AccessKey, g.SecretKey
	}
	client, err := blob.New(ctx, bc)
	if err != nil {
		return nil, err
	}
	if err := client.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	return client, nil
}

// Serve answers HTTP on the configured address until ctx is done, then
// shuts down gracefully. ready, when not nil, receives the bound address.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.Config.Addr, err)
	}
	srv := a.Web.HTTPServer(a.Config.Addr)
	a.Log.Info("easel serving", "addr", ln.Addr().String(), "api", a.Config.APIBase)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.Log.Info("easel stopped")
	return nil
}

// Close releases everything, in reverse order of start.
func (a *App) Close() {
	if a.River != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := a.River.Stop(stopCtx); err != nil {
			a.Log.Warn("jobs did not stop in time", "error", err)
		}
		cancel()
	}
	if a.stopFollowing != nil {
		a.stopFollowing()
	}
	if a.stopWorkers != nil {
		a.stopWorkers()
	}
	if a.pool != nil {
		a.pool.Close()
	}
	a.gateway.Stop()
	a.pg.Stop()
}

// loadSecret returns EASEL_SECRET, or the one generated in the data dir.
func loadSecret(cfg Config) ([]byte, error) {
	if cfg.Secret != "" {
		return []byte(cfg.Secret), nil
	}
	path := filepath.Join(cfg.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return []byte(s), nil
}

// defaultPoolSize is the connections to Postgres one Easel keeps at most,
// unless DATABASE_URL says otherwise (pool_max_conns): pgx's default
// (the number of CPUs, at least 4) queues requests behind the few
// transactions that wait on the object store.
const defaultPoolSize = 16

func openPool(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(dbURL, "pool_max_conns") {
		cfg.MaxConns = defaultPoolSize
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
