package proc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// TreeSupported reports whether this platform can find a job's tree.
const TreeSupported = true

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports (sysconf needs cgo).
const clockTicks = 100

// maxFDs bounds the descriptors examined per process when looking for
// listening sockets.
const maxFDs = 4096

// Children returns the pids of pid's children: the union of
// /proc/<pid>/task/<tid>/children over its threads (a child hangs off the
// thread that forked it).
func Children(pid int) []int {
	if pid <= 0 {
		return nil
	}
	base := "/proc/" + strconv.Itoa(pid) + "/task"
	d, err := os.Open(base)
	if err != nil {
		return nil
	}
	tids, _ := d.Readdirnames(1024)
	d.Close()
	var out []int
	for _, tid := range tids {
		out = appendChildren(out, base+"/"+tid+"/children")
	}
	return out
}

// LeaderChildren returns the children listed under pid's main thread
// only: where the kernel puts orphans re-parented to a subreaper (the
// first live thread of its group), and all children of a single-threaded
// process — one read instead of one per thread.
func LeaderChildren(pid int) []int { return leaderChildren(pid) }

func leaderChildren(pid int) []int {
	return appendChildren(nil, "/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(pid)+"/children")
}

func appendChildren(out []int, path string) []int {
	buf := procBufs.Get().(*[4096]byte)
	defer procBufs.Put(buf)
	data, _ := readSmall(path, buf[:])
	for _, f := range strings.Fields(string(data)) {
		if c, err := strconv.Atoi(f); err == nil && c > 0 && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// procBufs holds read buffers for small /proc files: a buffer passed to
// read(2) escapes, and a supervisor holding a tree reads these every second.
var procBufs = sync.Pool{New: func() any { return new([4096]byte) }}

// readSmall reads a small /proc file into buf with plain system calls: no
// poller registration, no stat — what makes a tree walk cheap.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// envHas reports whether pid's initial environment contains an entry
// beginning with prefix. It streams /proc/<pid>/environ through a small
// buffer: environments can be large and this runs once per candidate.
func envHas(pid int, prefix string) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 4096)
	atStart := true // the next slice begins an entry
	for {
		entry, err := r.ReadSlice(0)
		if atStart && len(entry) >= len(prefix) && string(entry[:len(prefix)]) == prefix {
			return true
		}
		switch {
		case err == bufio.ErrBufferFull:
			atStart = false // the rest of a long entry
		case err != nil:
			return false
		default:
			atStart = true
		}
	}
}

// readMemberStat reads /proc/<pid>/stat cheaply and also returns the
// number of threads (field 20).
func readMemberStat(pid int) (statFields, int, bool) {
	buf := procBufs.Get().(*[4096]byte)
	defer procBufs.Put(buf)
	data, err := readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		return statFields{}, 0, false
	}
	st, err := parseStat(data)
	if err != nil {
		return statFields{}, 0, false
	}
	threads := 1
	if end := bytes.LastIndexByte(data, ')'); end >= 0 {
		var f [18][]byte
		if splitFields(data[end+1:], f[:]) == 18 {
			if n, err := strconv.Atoi(string(f[17])); err == nil {
				threads = n
			}
		}
	}
	return st, threads, true
}

// ownedBySelf reports whether pid runs as the caller's user: a job's
// processes do, and a process of another user is never a member (a stale
// or forged record must not make us signal it).
func ownedBySelf(pid int) bool {
	var st unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(pid), &st) != nil {
		return false
	}
	return int(st.Uid) == os.Geteuid()
}

// startedBefore reports whether start time a (clock ticks since boot) is
// earlier than b; an empty or unparsable b never is.
func startedBefore(a, b string) bool {
	if b == "" {
		return false
	}
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// cmdlineHas reports whether every one of args is an argument of pid.
func cmdlineHas(pid int, args []string) bool {
	if len(args) == 0 {
		return true
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	have := strings.Split(string(data), "\x00")
	for _, a := range args {
		if !slices.Contains(have, a) {
			return false
		}
	}
	return true
}

// JobTree returns the live members of the tree described by spec, at most
// spec.Limit (MaxTree), roots first then descendants breadth-first. Zombies
// are not members, nor are processes of other users. The caller's own
// process and the supervisor are never members.
func JobTree(spec TreeSpec) []Member {
	limit := spec.Limit
	if limit <= 0 || limit > MaxTree {
		limit = MaxTree
	}
	if bootChanged(spec.BootID) {
		return nil
	}
	self := os.Getpid()
	seen := map[int]bool{self: true, spec.Supervisor.PID: true}
	var out []Member
	var queue []int
	var multi []bool // per queue entry: several threads (children per thread)
	// add takes pid as a member if it exists, is not a zombie and, when
	// want is set, still has the recorded start time.
	add := func(pid int, want string) {
		if pid <= 1 || seen[pid] || len(out) >= limit || !ownedBySelf(pid) {
			return
		}
		st, threads, ok := readMemberStat(pid)
		if !ok || want != "" && st.startTime != want || startedBefore(st.startTime, spec.NotBefore) {
			return
		}
		seen[pid] = true
		if st.state == 'Z' || st.state == 'X' {
			return
		}
		out = append(out, Member{PID: pid, PGID: st.pgrp, StartTime: st.startTime})
		queue = append(queue, pid)
		multi = append(multi, threads > 1)
	}
	// A bare pid (no start time) is never trusted: it may have been reused.
	if spec.Child.StartTime != "" {
		add(spec.Child.PID, spec.Child.StartTime)
	}
	for _, r := range spec.Recorded {
		if r.StartTime != "" {
			add(r.PID, r.StartTime)
		}
	}
	if sup := spec.Supervisor; sup.PID > 1 && sup.StartTime != "" {
		if st, ok := readStat(sup.PID); ok && st.startTime == sup.StartTime && st.state != 'Z' && st.state != 'X' && cmdlineHas(sup.PID, spec.SupervisorArgs) {
			// Orphans are re-parented to the subreaper's first live thread
			// (its main thread); children under other threads are the
			// direct child (already known) and notification sinks.
			for _, c := range leaderChildren(sup.PID) {
				if seen[c] {
					continue
				}
				if slices.Contains(spec.SkipPIDs, c) || spec.SkipEnv != "" && envHas(c, spec.SkipEnv) {
					seen[c] = true // a sink: neither it nor its descendants are the job's
					continue
				}
				add(c, "")
			}
		}
	}
	for i := 0; i < len(queue) && len(out) < limit; i++ {
		children := leaderChildren
		if multi[i] {
			children = Children
		}
		for _, c := range children(queue[i]) {
			add(c, "")
		}
	}
	return out
}

// SignalVerified sends sig to id.PID only if it is still the recorded
// process: it holds a pidfd on the pid before comparing the start time, so
// the pid cannot be recycled between the check and the signal. A pid ≤ 1,
// the caller itself, an empty recorded start time or a changed one is never
// signalled (false, nil); a process that is already gone is not an error.
func SignalVerified(id Identity, sig syscall.Signal) (bool, error) {
	if id.PID <= 1 || id.PID == os.Getpid() || id.StartTime == "" {
		return false, nil
	}
	fd, err := unix.PidfdOpen(id.PID, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return false, nil
	case err != nil:
		// No pidfds (old kernel, seccomp): check, then signal by pid. The
		// window between the two is the best this kernel allows.
		if cur, ok := StartTime(id.PID); !ok || cur != id.StartTime {
			return false, nil
		}
		if err := unix.Kill(id.PID, sig); err != nil {
			if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EPERM) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	defer unix.Close(fd)
	if cur, ok := StartTime(id.PID); !ok || cur != id.StartTime {
		return false, nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EPERM) {
			return false, nil // gone, or not ours to signal
		}
		return false, err
	}
	return true, nil
}

// Usage sums resident memory and CPU time of the given live processes.
func Usage(members []Member) TreeUsage {
	var u TreeUsage
	page := int64(os.Getpagesize())
	for _, m := range members {
		buf := procBufs.Get().(*[4096]byte)
		data, err := readSmall("/proc/"+strconv.Itoa(m.PID)+"/stat", buf[:])
		var utime, stime, rss int64
		ok := false
		if err == nil {
			utime, stime, rss, ok = parseUsage(data)
		}
		procBufs.Put(buf)
		if !ok {
			continue
		}
		u.RSSKB += rss * page / 1024
		u.CPUMS += (utime + stime) * 1000 / clockTicks
	}
	return u
}

// parseUsage reads utime (field 14), stime (15) and rss (24, pages) from
// /proc/<pid>/stat content.
func parseUsage(data []byte) (utime, stime, rss int64, ok bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, 0, 0, false
	}
	var f [22][]byte // f[i] is field i+3
	if splitFields(data[end+1:], f[:]) < 22 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	utime, err1 = strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 = strconv.ParseInt(string(f[12]), 10, 64)
	rss, err3 = strconv.ParseInt(string(f[21]), 10, 64)
	return utime, stime, rss, err1 == nil && err2 == nil && err3 == nil
}

// Listening returns the TCP sockets in LISTEN state (IPv4 and IPv6) held
// open by the given processes, sorted by port, address and pid.
func Listening(members []Member) []Listener {
	owner := map[uint64]int{} // socket inode → first pid holding it
	for _, m := range members {
		socketInodes(m.PID, func(ino uint64) {
			if _, ok := owner[ino]; !ok {
				owner[ino] = m.PID
			}
		})
	}
	if len(owner) == 0 {
		return nil
	}
	// The tables of the members' network namespace.
	base := "/proc/" + strconv.Itoa(members[0].PID) + "/net/"
	var out []Listener
	for _, table := range []string{"tcp", "tcp6"} {
		out = appendListeners(out, base+table, owner)
	}
	slices.SortFunc(out, func(a, b Listener) int {
		if a.Port != b.Port {
			return a.Port - b.Port
		}
		if a.Address != b.Address {
			return strings.Compare(a.Address, b.Address)
		}
		return a.PID - b.PID
	})
	return slices.Compact(out)
}

// socketInodes calls fn with the inode of every socket pid has open.
func socketInodes(pid int, fn func(uint64)) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(maxFDs)
	d.Close()
	for _, n := range names {
		link, err := os.Readlink(dir + "/" + n)
		if err != nil || !strings.HasPrefix(link, "socket:[") || !strings.HasSuffix(link, "]") {
			continue
		}
		if ino, err := strconv.ParseUint(link[len("socket:["):len(link)-1], 10, 64); err == nil {
			fn(ino)
		}
	}
}

// appendListeners parses one /proc/net/tcp{,6} table and appends the
// LISTEN sockets whose inode is in owner.
func appendListeners(out []Listener, path string, owner map[uint64]int) []Listener {
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[3] != "0A" {
			continue
		}
		ino, err := strconv.ParseUint(fs[9], 10, 64)
		if err != nil {
			continue
		}
		pid, ok := owner[ino]
		if !ok {
			continue
		}
		addr, port, ok := parseSockAddr(fs[1])
		if !ok {
			continue
		}
		out = append(out, Listener{Port: port, Address: addr, PID: pid})
	}
	return out
}

// parseSockAddr decodes "0100007F:1F90" (IPv4) or a 32-digit IPv6 address
// with port: the address is printed as 32-bit words in host byte order.
func parseSockAddr(s string) (string, int, bool) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || len(hexAddr)%8 != 0 || len(hexAddr) == 0 || len(hexAddr) > 32 {
		return "", 0, false
	}
	var b []byte
	for i := 0; i < len(hexAddr); i += 8 {
		w, err := strconv.ParseUint(hexAddr[i:i+8], 16, 32)
		if err != nil {
			return "", 0, false
		}
		// The kernel prints the raw 32-bit word; on little-endian machines
		// its first byte in memory (network order) is the low byte.
		var word [4]byte
		binary.NativeEndian.PutUint32(word[:], uint32(w))
		b = append(b, word[:]...)
	}
	var a netip.Addr
	switch len(b) {
	case 4:
		a = netip.AddrFrom4([4]byte(b))
	case 16:
		a = netip.AddrFrom16([16]byte(b))
	default:
		return "", 0, false
	}
	return a.String(), int(port), true
}
