//go:build !linux

package watch

import "github.com/fsnotify/fsnotify"

// Watcher wraps fsnotify where inotify is not available.
type Watcher struct {
	Events chan string
	fw     *fsnotify.Watcher
	done   chan struct{}
}

// New starts a watcher.
func New() (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &Watcher{Events: make(chan string, 64), fw: fw, done: make(chan struct{})}
	go func() {
		defer close(w.Events)
		for {
			select {
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				select {
				case w.Events <- ev.Name:
				case <-w.done:
					return
				}
			case _, ok := <-fw.Errors:
				if !ok {
					return
				}
			}
		}
	}()
	return w, nil
}

// Add watches path; re-adding an existing watch is harmless.
func (w *Watcher) Add(path string, k Kind) error { return w.fw.Add(path) }

// Remove stops watching path.
func (w *Watcher) Remove(path string) { w.fw.Remove(path) }

// Close stops the watcher.
func (w *Watcher) Close() error {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	return w.fw.Close()
}
