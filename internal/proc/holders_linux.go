package proc

import (
	"os"
	"strconv"
	"syscall"
)

// HoldersSince returns the pids of the processes that have the file at path
// open and started no earlier than the process whose start time reading was
// since (a [StartTime] value). A launcher uses it to find the job child of a
// supervisor that died before it could report the child: the child holds
// the job's log files from the moment it is forked, and started after its
// supervisor, so processes of earlier runs holding the same files are not
// confused with it. Only this user's processes are readable; an empty since
// or an unreadable path yields nothing.
func HoldersSince(path, since string) []int {
	min, err := strconv.ParseUint(since, 10, 64)
	if err != nil {
		return nil
	}
	var want syscall.Stat_t
	if syscall.Stat(path, &want) != nil {
		return nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 1 {
			continue
		}
		st, ok := readStat(pid)
		if !ok {
			continue
		}
		if start, err := strconv.ParseUint(st.startTime, 10, 64); err != nil || start < min {
			continue
		}
		if holds(pid, uint64(want.Dev), uint64(want.Ino)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// holds reports whether pid has a descriptor open on the file dev/ino.
func holds(pid int, dev, ino uint64) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		var st syscall.Stat_t
		if syscall.Stat(dir+"/"+fd.Name(), &st) == nil && uint64(st.Dev) == dev && uint64(st.Ino) == ino {
			return true
		}
	}
	return false
}

// KillHoldersSince SIGKILLs every process [HoldersSince] finds — its whole
// group when it leads one (a job child leads its own), else itself — and
// returns how many it found.
func KillHoldersSince(path, since string) int {
	pids := HoldersSince(path, since)
	for _, pid := range pids {
		if _, pgid, ok := ProcState(pid); ok && pgid == pid {
			SignalGroup(pid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(pids)
}
