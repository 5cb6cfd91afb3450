// Package app reads the configuration and wires Easel's parts together.
package app

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole process configuration, read from the environment.
type Config struct {
	Addr            string        // EASEL_ADDR
	DatabaseURL     string        // DATABASE_URL; empty: private cluster under DataDir/pg
	DataDir         string        // EASEL_DATA_DIR
	S3Endpoint      string        // EASEL_S3_ENDPOINT; empty: embedded versitygw, "aws": Amazon S3
	S3Bucket        string        // EASEL_S3_BUCKET
	S3PublicURL     string        // EASEL_S3_PUBLIC_URL
	S3AccessKey     string        // EASEL_S3_ACCESS_KEY (else the AWS credential chain)
	S3SecretKey     string        // EASEL_S3_SECRET_KEY
	S3GatewayBin    string        // EASEL_S3GW_BIN
	Region          string        // AWS_REGION
	APIBase         string        // EASEL_API_BASE
	APIVersion      string        // EASEL_API_VERSION
	AdminUser       string        // EASEL_ADMIN_USER
	AdminPassword   string        // EASEL_ADMIN_PASSWORD
	APIKey          string        // EASEL_API_KEY
	Secret          string        // EASEL_SECRET; empty: generated, kept in DataDir
	RevealPasswords bool          // EASEL_ESD_REVEAL_PASSWORDS
	LogFormat       string        // EASEL_LOG_FORMAT: json or text; empty: text on a terminal, else json
	AllowPrivate    bool          // EASEL_ALLOW_PRIVATE_URLS
	MaxModelBytes   int64         // EASEL_MAX_MODEL_BYTES
	UploadTTL       time.Duration // EASEL_UPLOAD_TTL
	WebUIPools      string        // EASEL_WEBUI_POOLS
	// WorkerPools are the pools of `easel worker`s (EASEL_WORKER_POOLS).
	WorkerPools []string
	// WorkerHeartbeat is how often a worker running a job reports
	// (EASEL_WORKER_HEARTBEAT); a lease lasts 1.5 of them past each report.
	WorkerHeartbeat time.Duration
	SageMakerRole   string // EASEL_SAGEMAKER_ROLE_ARN
	SageMakerImage  string // EASEL_SAGEMAKER_IMAGE
	// SageMakerEndpoint overrides the AWS endpoints of SageMaker,
	// autoscaling, CloudWatch and the check's ECR, IAM and STS
	// (EASEL_SAGEMAKER_ENDPOINT; tests use a fake).
	SageMakerEndpoint string
	// AWSAccessKey/AWSSecretKey are AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
	// as this process was given them (else the rest of the AWS chain).
	AWSAccessKey, AWSSecretKey string
	ReconcileEvery             time.Duration // EASEL_RECONCILE_INTERVAL
	JobTimeout                 time.Duration // EASEL_JOB_TIMEOUT
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (EASEL_TRUSTED_PROXIES); empty: the peer address is the client.
	TrustedProxies []*net.IPNet
	// TrainInstanceType is what an empty training_instance_type means
	// (EASEL_TRAIN_INSTANCE_TYPE).
	TrainInstanceType string
}

// Setting documents one environment variable (the README's table).
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable Easel reads.
var Settings = []Setting{
	{"EASEL_ADDR", ":8080", "listen address of the console and the API"},
	{"DATABASE_URL", "(unset)", "external Postgres; unset runs a private cluster under $EASEL_DATA_DIR/pg (16 connections per Easel unless the URL sets pool_max_conns)"},
	{"EASEL_DATA_DIR", "./.data", "where the embedded Postgres, S3 data and the generated secret live"},
	{"EASEL_S3_ENDPOINT", "(unset)", "S3-compatible store URL, or `aws` for Amazon S3; unset runs versitygw under $EASEL_DATA_DIR/s3"},
	{"EASEL_S3_BUCKET", "easel", "bucket for model files, inference parameters and images"},
	{"EASEL_S3_PUBLIC_URL", "(store URL)", "host named in presigned URLs, for clients that reach the store elsewhere"},
	{"EASEL_S3_ACCESS_KEY / EASEL_S3_SECRET_KEY", "(AWS chain)", "static credentials for an external store"},
	{"EASEL_S3GW_BIN", "(next to easel, ./bin, PATH)", "path of the versitygw binary for the embedded store"},
	{"AWS_REGION", "us-east-1", "AWS region (S3, SageMaker)"},
	{"EASEL_API_BASE", "/prod", "base path of the ESD API"},
	{"EASEL_API_VERSION", "1.4.0", "value of the x-api-version header"},
	{"EASEL_ADMIN_USER", "admin", "administrator created on first start"},
	{"EASEL_ADMIN_PASSWORD", "(generated, printed once)", "password of that administrator on first start"},
	{"EASEL_API_KEY", "(unset)", "seeds a service key with this secret (an ESD deployment's shared key)"},
	{"EASEL_SECRET", "(generated in the data dir)", "session signing and encryption key; set it when running several replicas"},
	{"EASEL_ESD_REVEAL_PASSWORDS", "0", "1 keeps an encrypted copy of passwords so GET /users?show_password=True can return them (ESD 1.4.0 WebUI login table)"},
	{"EASEL_LOG_FORMAT", "(text on a terminal, else json)", "`json` or `text`"},
	{"EASEL_ALLOW_PRIVATE_URLS", "0", "1 lets URL imports reach loopback, private and link-local addresses (off: SSRF protection)"},
	{"EASEL_MAX_MODEL_BYTES", "53687091200 (50 GiB)", "largest model file a URL import accepts"},
	{"EASEL_UPLOAD_TTL", "168h", "how long an unfinished browser upload may stay before it is aborted and removed"},
	{"EASEL_WEBUI_POOLS", "(unset)", "pools of AUTOMATIC1111-compatible servers: `studio=http://gpu1:7860,http://gpu2:7860;lab=http://user:pass@gpu3:7860`"},
	{"EASEL_WORKER_POOLS", "(unset)", "comma-separated names of pools of `easel worker` GPU machines (docs/WORKERS.md), e.g. `studio,lab`"},
	{"EASEL_WORKER_HEARTBEAT", "5s", "how often a worker running a job reports; a job whose worker misses reports for 1.5 of these goes to another worker"},
	{"EASEL_SAGEMAKER_ROLE_ARN", "(unset)", "execution role of SageMaker models; set it to offer ml.* instance types (which also need EASEL_S3_ENDPOINT=aws, see docs/SAGEMAKER.md)"},
	{"EASEL_SAGEMAKER_IMAGE", "(unset)", "the ESD inference container image for SageMaker endpoints"},
	{"EASEL_SAGEMAKER_ENDPOINT", "(AWS)", "one URL for the SageMaker, runtime, autoscaling, CloudWatch, ECR, IAM and STS APIs (an AWS-compatible gateway that also gives the container this store, or a fake in tests)"},
	{"EASEL_JOB_TIMEOUT", "1h", "an inference with no result this long after its start ends failed"},
	{"EASEL_RECONCILE_INTERVAL", "10s", "how often endpoint states are refreshed from their backends"},
	{"EASEL_TRAIN_INSTANCE_TYPE", "ml.g4dn.2xlarge", "the training backend of a training that names none: an ml.* type or a worker pool (docs/TRAINING.md)"},
	{"EASEL_TRUSTED_PROXIES", "(none)", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client; none: the peer address is the client"},
}

// LoadConfig reads the configuration through getenv and validates it.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:            get("EASEL_ADDR", ":8080"),
		DatabaseURL:     getenv("DATABASE_URL"),
		DataDir:         get("EASEL_DATA_DIR", "./.data"),
		S3Endpoint:      getenv("EASEL_S3_ENDPOINT"),
		S3Bucket:        get("EASEL_S3_BUCKET", "easel"),
		S3PublicURL:     getenv("EASEL_S3_PUBLIC_URL"),
		S3AccessKey:     getenv("EASEL_S3_ACCESS_KEY"),
		S3SecretKey:     getenv("EASEL_S3_SECRET_KEY"),
		S3GatewayBin:    getenv("EASEL_S3GW_BIN"),
		Region:          get("AWS_REGION", "us-east-1"),
		APIBase:         get("EASEL_API_BASE", "/prod"),
		APIVersion:      get("EASEL_API_VERSION", "1.4.0"),
		AdminUser:       get("EASEL_ADMIN_USER", "admin"),
		AdminPassword:   getenv("EASEL_ADMIN_PASSWORD"),
		APIKey:          getenv("EASEL_API_KEY"),
		Secret:          getenv("EASEL_SECRET"),
		RevealPasswords: getenv("EASEL_ESD_REVEAL_PASSWORDS") == "1",
		LogFormat:       get("EASEL_LOG_FORMAT", ""),
	}
	c.TrainInstanceType = get("EASEL_TRAIN_INSTANCE_TYPE", "ml.g4dn.2xlarge")
	var err error
	c.AllowPrivate = getenv("EASEL_ALLOW_PRIVATE_URLS") == "1"
	if c.MaxModelBytes, err = strconv.ParseInt(get("EASEL_MAX_MODEL_BYTES", "53687091200"), 10, 64); err != nil || c.MaxModelBytes < 1 {
		return c, fmt.Errorf("EASEL_MAX_MODEL_BYTES must be a positive number of bytes")
	}
	if c.UploadTTL, err = time.ParseDuration(get("EASEL_UPLOAD_TTL", "168h")); err != nil || c.UploadTTL <= 0 {
		return c, fmt.Errorf("EASEL_UPLOAD_TTL must be a positive duration such as 168h")
	}
	c.WebUIPools, c.SageMakerRole, c.SageMakerImage = getenv("EASEL_WEBUI_POOLS"), getenv("EASEL_SAGEMAKER_ROLE_ARN"), getenv("EASEL_SAGEMAKER_IMAGE")
	c.SageMakerEndpoint = getenv("EASEL_SAGEMAKER_ENDPOINT")
	if c.WorkerPools, err = parseWorkerPools(getenv("EASEL_WORKER_POOLS")); err != nil {
		return c, err
	}
	if c.WorkerHeartbeat, err = time.ParseDuration(get("EASEL_WORKER_HEARTBEAT", "5s")); err != nil || c.WorkerHeartbeat < 100*time.Millisecond {
		return c, fmt.Errorf("EASEL_WORKER_HEARTBEAT must be a duration of at least 100ms such as 5s")
	}
	c.AWSAccessKey, c.AWSSecretKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if c.ReconcileEvery, err = time.ParseDuration(get("EASEL_RECONCILE_INTERVAL", "10s")); err != nil || c.ReconcileEvery < 100*time.Millisecond {
		return c, fmt.Errorf("EASEL_RECONCILE_INTERVAL must be a duration of at least 100ms such as 10s")
	}
	if c.JobTimeout, err = time.ParseDuration(get("EASEL_JOB_TIMEOUT", "1h")); err != nil || c.JobTimeout < time.Second {
		return c, fmt.Errorf("EASEL_JOB_TIMEOUT must be a duration of at least 1s such as 1h")
	}
	if c.TrustedProxies, err = parseCIDRs(getenv("EASEL_TRUSTED_PROXIES")); err != nil {
		return c, fmt.Errorf("EASEL_TRUSTED_PROXIES must be comma-separated CIDRs such as 10.0.0.0/8,192.0.2.7/32: %w", err)
	}
	if c.SageMakerRole != "" && c.SageMakerImage == "" {
		return c, fmt.Errorf("EASEL_SAGEMAKER_IMAGE is required with EASEL_SAGEMAKER_ROLE_ARN (the ESD inference image)")
	}
	if c.DataDir, err = filepath.Abs(c.DataDir); err != nil {
		return c, fmt.Errorf("EASEL_DATA_DIR: %w", err)
	}
	c.APIBase = "/" + strings.Trim(c.APIBase, "/")
	if c.APIBase == "/" {
		return c, fmt.Errorf("EASEL_API_BASE must not be /: the console lives there")
	}
	if c.LogFormat != "" && c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("EASEL_LOG_FORMAT must be json or text, not %q", c.LogFormat)
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		return c, fmt.Errorf("EASEL_SECRET must be at least 16 characters")
	}
	return c, nil
}

// parseCIDRs reads a comma-separated list of CIDRs; a bare address is a
// network of one.
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if ip := net.ParseIP(item); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", item)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseWorkerPools reads EASEL_WORKER_POOLS: comma-separated pool names,
// each a valid endpoint instance type (letters, digits, dashes).
func parseWorkerPools(v string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !poolName.MatchString(name) || strings.HasPrefix(name, "ml.") {
			return nil, fmt.Errorf("EASEL_WORKER_POOLS: pool name %q must be 1 to 40 letters, digits or dashes (and not ml.*)", name)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("EASEL_WORKER_POOLS: pool %q is named twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

var poolName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,39}$`)
