package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/google/uuid"

	"easel/actions"
	"easel/app"
	"easel/gpu"
	"easel/internal/logx"
	"easel/policy"
	"easel/store"
)

func newLogger(cfg app.Config, out io.Writer) *slog.Logger { return logx.New(cfg.LogFormat, out) }

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	a, err := app.Open(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		fmt.Fprintf(stdout, "Easel is ready: console http://%s/  API http://%s%s/\n", displayAddr(addr), displayAddr(addr), cfg.APIBase)
	})
}

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, "[::]:") || strings.HasPrefix(addr, "0.0.0.0:") {
		return "localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	return addr
}

func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	return withDatabase(ctx, getenv, stdout, func(*app.App) error {
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	})
}

// withDatabase opens the database (quietly) for an admin command.
func withDatabase(ctx context.Context, getenv func(string) string, stdout io.Writer, fn func(*app.App) error) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.OpenDatabase(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// cliOrigin marks the changes of an admin command as the command line's
// in the audit log.
func cliOrigin(ctx context.Context) context.Context {
	return store.WithOrigin(ctx, &store.Origin{Via: store.ViaCLI})
}

// admin is the CLI's principal: whoever runs the binary on the server.
var admin = policy.Principal{Service: true}

func userCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || (args[0] != "create" && args[0] != "passwd") {
		return errors.New("usage: easel user create|passwd NAME [--password P] [--role R ...]")
	}
	sub, name := args[0], args[1]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	password := fs.String("password", "", "password (read from stdin when empty)")
	var roles multiFlag
	if sub == "create" {
		fs.Var(&roles, "role", "role to grant (repeatable)")
	}
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *password == "" {
		pw, err := readPassword()
		if err != nil {
			return err
		}
		*password = pw
	}
	return withDatabase(ctx, getenv, stdout, func(a *app.App) error {
		var err error
		if sub == "create" {
			err = a.Actions.Users.Upsert(ctx, admin, actions.UserInput{Username: name, Password: password, Roles: roles})
		} else {
			err = a.Actions.Users.SetPassword(ctx, admin, name, *password)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s saved\n", name)
		return nil
	})
}

func keyCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 1 {
		return errors.New("usage: easel key create --user U | --service | --worker --pool P [--name N] | easel key revoke ID")
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("key create", flag.ContinueOnError)
		user := fs.String("user", "", "user the key belongs to (a service key records its creator)")
		service := fs.Bool("service", false, "make a service key that may act as any user")
		worker := fs.Bool("worker", false, "make a worker key: it serves one worker pool (--pool) and nothing else")
		pool := fs.String("pool", "", "the worker pool of a worker key (EASEL_WORKER_POOLS)")
		name := fs.String("name", "", "a name to recognise the key by")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *worker != (*pool != "") {
			return errors.New("a worker key needs both --worker and --pool NAME")
		}
		if *user == "" && !*service && !*worker {
			return errors.New("key create needs --user U (or --service, or --worker --pool NAME)")
		}
		return withDatabase(ctx, getenv, stdout, func(a *app.App) error {
			in := actions.KeyInput{Name: *name, Owner: *user, Service: *service, Pool: *pool}
			secret, k, err := a.Actions.Keys.Create(ctx, admin, in)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key %s created; its secret (shown only now):\n%s\n", k.ID, secret)
			return nil
		})
	case "revoke":
		if len(args) != 2 {
			return errors.New("usage: easel key revoke ID")
		}
		id, err := uuid.Parse(args[1])
		if err != nil {
			return fmt.Errorf("key id %q is not a UUID", args[1])
		}
		return withDatabase(ctx, getenv, stdout, func(a *app.App) error {
			if err := a.Actions.Keys.Revoke(ctx, admin, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key %s revoked\n", id)
			return nil
		})
	}
	return fmt.Errorf("unknown key command %q", args[0])
}

func readPassword() (string, error) {
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given (use --password or pipe it on stdin)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// sageMakerCommand is `easel sagemaker check`: the prerequisite check of
// the SageMaker configuration, with read-only AWS calls. It fails when
// something is missing.
func sageMakerCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "check" {
		return errors.New("usage: easel sagemaker check")
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	findings, err := app.CheckSageMaker(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SageMaker prerequisites (region %s, bucket s3://%s/):\n", cfg.Region, cfg.S3Bucket)
	missing, unverified := 0, 0
	for _, f := range findings {
		label := map[string]string{gpu.FindingOK: "ok", gpu.FindingMissing: "MISSING", gpu.FindingUnverified: "NOT VERIFIED"}[f.Status]
		fmt.Fprintf(stdout, "  %-12s %s: %s\n", label, f.What, f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(stdout, "  %-12s fix: %s\n", "", f.Fix)
		}
		switch f.Status {
		case gpu.FindingMissing:
			missing++
		case gpu.FindingUnverified:
			unverified++
		}
	}
	fmt.Fprintf(stdout, "%d missing, %d not verified, %d ok.\n", missing, unverified, len(findings)-missing-unverified)
	if missing > 0 {
		return fmt.Errorf("SageMaker prerequisites missing: %d (see above)", missing)
	}
	return nil
}
