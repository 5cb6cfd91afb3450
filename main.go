// Command easel is a self-hosted control plane for Stable Diffusion
// inference: the console, the ESD-compatible API and the admin CLI.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "easel:", err)
		os.Exit(1)
	}
}

const usage = `usage: easel [command]

commands:
  serve                                  run the console and the API (default)
  migrate                                apply database migrations and exit
  user create NAME [--password P] [--role R ...]
  user passwd NAME [--password P]        (reads the password from stdin when not given)
  key create --user U | --service | --worker --pool P [--name N]
                                         print a new API key (shown once)
  key revoke ID
  sim-webui [--addr :7861] [--delay 2s] [--fail-rate 0.1] [--models-dir DIR] [--switch-delay 2s]
                                         run the AUTOMATIC1111 API simulator (tests, demos; not Stable Diffusion)
  worker --server URL --models-dir DIR [--webui http://127.0.0.1:7860] [--name N] [--cache-size 200GiB] [--grace 30s]
                                         lease and run jobs beside a GPU's WebUI (key: EASEL_WORKER_KEY or --key)
  sagemaker check                        check the SageMaker prerequisites (bucket, image, roles) with read-only calls
`

// run is main without the process: tests call it with their own
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout)
	case "migrate":
		return migrate(ctx, getenv, stdout)
	case "user":
		return userCommand(cliOrigin(ctx), args, getenv, stdout)
	case "key":
		return keyCommand(cliOrigin(ctx), args, getenv, stdout)
	case "sagemaker":
		return sageMakerCommand(ctx, args, getenv, stdout)
	case "sim-webui":
		return simWebUI(ctx, args, stdout)
	case "worker":
		return workerCommand(ctx, args, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
