package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// launcher starts masspayout processes with the run's environment, each with its stdout and
// stderr in a log file of its own (<name>-<n>.log in dir).
type launcher struct {
	bin string
	dir string
	env []string

	mu  sync.Mutex
	seq map[string]int
}

func newLauncher(bin, dir string, env []string) *launcher {
	return &launcher{bin: bin, dir: dir, env: env, seq: map[string]int{}}
}

// logFile creates the next log file for a process called name.
func (l *launcher) logFile(name string) (string, *os.File, error) {
	l.mu.Lock()
	l.seq[name]++
	label := name + "-" + strconv.Itoa(l.seq[name])
	l.mu.Unlock()
	f, err := os.Create(filepath.Join(l.dir, label+".log"))
	return label, f, err
}

// proc is one running masspayout process.
type proc struct {
	label string
	cmd   *exec.Cmd
	log   *os.File
	done  chan struct{}
	err   error // the exit, once done is closed
}

// start runs `masspayout args...` in the background; its output goes to its log file.
func (l *launcher) start(name string, args ...string) (*proc, error) {
	label, f, err := l.logFile(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(l.bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = l.env, f, f
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &proc{label: label, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// terminate asks the process to stop (SIGTERM) and kills it when it has not within grace.
func (p *proc) terminate(grace time.Duration) {
	p.signal(syscall.SIGCONT) // a stopped process cannot act on SIGTERM
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// outcome is how a one-shot command ended.
type outcome struct {
	label          string
	stdout, stderr string
	code           int // exit status; -1 when it did not run to an exit
}

// run runs `masspayout args...` to its end (or ctx's): stdout and stderr are returned and
// logged. A non-zero exit is an outcome, not an error.
func (l *launcher) run(ctx context.Context, name string, args ...string) (outcome, error) {
	label, f, err := l.logFile(name)
	if err != nil {
		return outcome{}, err
	}
	defer f.Close()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, l.bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = l.env, io.MultiWriter(&out, f), io.MultiWriter(&errOut, f)
	setDeathSignal(cmd)
	err = cmd.Run()
	o := outcome{label: label, stdout: out.String(), stderr: errOut.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		o.code = ee.ExitCode()
		return o, nil
	}
	if err != nil {
		o.code = -1
		return o, fmt.Errorf("run %s: %w", label, err)
	}
	return o, nil
}
