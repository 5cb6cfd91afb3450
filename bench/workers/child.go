package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// roleEnv names the part a re-executed bench binary plays: sims, workers
// or clients. Each part runs in its own process so that /proc tells their
// CPU time apart from Easel's (this process).
const roleEnv = "EASEL_BENCH_WORKERS_ROLE"

// A child reads its configuration, then commands, as JSON values on its
// stdin and answers each (and the configuration: "ready") with a reply on
// its stdout. It stops when its stdin closes.
type command struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

type reply struct {
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// childProc is a running child, seen from this process.
type childProc struct {
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *json.Encoder
	dec   *json.Decoder
}

// startChild runs this binary as role with cfg, and decodes its ready
// reply into ready; an error when it cannot start or does not get ready.
func startChild(role string, cfg, ready any) (*childProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s child: %w", role, err)
	}
	p := &childProc{role: role, cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), dec: json.NewDecoder(stdout)}
	if err := p.enc.Encode(cfg); err != nil {
		return nil, errors.Join(err, p.close())
	}
	if err := p.receive(ready); err != nil {
		return nil, errors.Join(err, p.close())
	}
	return p, nil
}

// pid is the child's process id, as /proc names it.
func (p *childProc) pid() string { return strconv.Itoa(p.cmd.Process.Pid) }

// do sends a command and decodes its result into out.
func (p *childProc) do(op string, args, out any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if err := p.enc.Encode(command{Op: op, Args: raw}); err != nil {
		return fmt.Errorf("%s child: %w", p.role, err)
	}
	return p.receive(out)
}

func (p *childProc) receive(out any) error {
	var r reply
	if err := p.dec.Decode(&r); err != nil {
		return fmt.Errorf("%s child: no answer: %w", p.role, err)
	}
	if r.Error != "" {
		return fmt.Errorf("%s child: %s", p.role, r.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

// close closes the child's stdin, which stops it, and waits for it (a
// minute at most, then it is killed).
func (p *childProc) close() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s child: %w", p.role, err)
		}
		return nil
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s child did not stop within a minute; killed", p.role)
	}
}

// handler answers a child's commands.
type handler func(ctx context.Context, op string, args json.RawMessage) (any, error)

// part starts a child's part from its configuration: it returns the
// ready reply, the command handler and the function that stops the part.
type part func(ctx context.Context, cfg json.RawMessage) (ready any, handle handler, stop func() error, err error)

// child is main in a re-executed binary: it reads the configuration,
// starts the part and replies ready, then answers commands until its
// stdin closes.
func child(ctx context.Context, start part) (err error) {
	dec, enc := json.NewDecoder(os.Stdin), json.NewEncoder(os.Stdout)
	var cfg json.RawMessage
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("read the configuration: %w", err)
	}
	ready, handle, stop, err := start(ctx, cfg)
	if err != nil {
		_ = enc.Encode(reply{Error: err.Error()})
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()
	if err := answer(enc, ready, nil); err != nil {
		return err
	}
	for {
		var c command
		if err := dec.Decode(&c); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		res, herr := handle(ctx, c.Op, c.Args)
		if err := answer(enc, res, herr); err != nil {
			return err
		}
	}
}

func answer(enc *json.Encoder, res any, err error) error {
	if err != nil {
		return enc.Encode(reply{Error: err.Error()})
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return enc.Encode(reply{Error: err.Error()})
	}
	return enc.Encode(reply{Result: raw})
}
