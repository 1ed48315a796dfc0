package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data so that a reader sees either the
// old or the new content, never a partial file: write a .tmp-<random> file in
// the same directory, fsync, close, rename over the target, fsync the
// directory. The file mode is 0600 regardless of the umask.
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data, true) }

// WriteFileAtomicUnsynced is WriteFileAtomic without the two fsyncs: just
// as atomic for every reader, but not made durable against a power loss
// before it returns. For writes on the launch path whose content a later
// durable write replaces anyway (SPEC §2.6 asks for atomic replacement,
// not durability; issue #12: each fsync cost about a millisecond there).
func WriteFileAtomicUnsynced(path string, data []byte) error { return writeAtomic(path, data, false) }

func writeAtomic(path string, data []byte, durable bool) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, TempPrefix+randomHex(8))
	f, err := retryExhausted(func() (*os.File, error) { return OpenJobFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) })
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	ok = true
	if durable {
		syncDir(dir)
	}
	return nil
}

// syncDir makes a rename durable. Failure is ignored: the rename itself has
// already happened and every reader sees the new file.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
