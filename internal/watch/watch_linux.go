//go:build linux

package watch

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watcher is one inotify instance. Events carries the path of the watched
// file or directory an event concerns (for directories, the path of the
// entry that changed).
type Watcher struct {
	Events chan string

	f     *os.File
	mu    sync.Mutex
	paths map[int32]string
	wds   map[string]int32
	done  chan struct{}
}

// New starts a watcher.
func New() (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		Events: make(chan string, 64),
		f:      os.NewFile(uintptr(fd), "inotify"), // non-blocking: served by the runtime poller
		paths:  map[int32]string{},
		wds:    map[string]int32{},
		done:   make(chan struct{}),
	}
	go w.loop()
	return w, nil
}

func mask(k Kind) uint32 {
	if k == Modified {
		return unix.IN_MODIFY | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	}
	return unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
}

// Add watches path.
func (w *Watcher) Add(path string, k Kind) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	wd, err := unix.InotifyAddWatch(int(w.f.Fd()), path, mask(k))
	if err != nil {
		return &os.PathError{Op: "inotify_add_watch", Path: path, Err: err}
	}
	w.paths[int32(wd)] = path
	w.wds[path] = int32(wd)
	return nil
}

// Remove stops watching path. Removing an unknown path is a no-op.
func (w *Watcher) Remove(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wd, ok := w.wds[path]
	if !ok {
		return
	}
	delete(w.wds, path)
	delete(w.paths, wd)
	unix.InotifyRmWatch(int(w.f.Fd()), uint32(wd))
}

// Close stops the watcher; Events is closed once the reader has ended.
func (w *Watcher) Close() error {
	select {
	case <-w.done:
		return nil
	default:
		close(w.done)
	}
	return w.f.Close()
}

func (w *Watcher) loop() {
	defer close(w.Events)
	buf := make([]byte, 16*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			select {
			case <-w.done:
				return
			default:
			}
			continue
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			w.mu.Lock()
			path, ok := w.paths[ev.Wd]
			if ok && ev.Mask&unix.IN_IGNORED != 0 {
				// The kernel dropped the watch (path removed).
				delete(w.paths, ev.Wd)
				if w.wds[path] == ev.Wd {
					delete(w.wds, path)
				}
			}
			w.mu.Unlock()
			if !ok || ev.Mask&unix.IN_IGNORED != 0 && ev.Mask&^unix.IN_IGNORED == 0 {
				continue
			}
			if name := cString(nameBytes); name != "" {
				path = filepath.Join(path, name)
			}
			select {
			case w.Events <- path:
			case <-w.done:
				return
			}
		}
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
