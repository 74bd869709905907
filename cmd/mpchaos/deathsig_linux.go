package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the child get SIGKILL when mpchaos dies, so that no worker or
// redis-server outlives an interrupted run.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
