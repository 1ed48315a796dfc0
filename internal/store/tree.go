package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// TreeFile records the processes of a job's tree that the supervisor
// adopted or saw (SPEC §11.4), so that a reader in another process — or
// after the supervisor itself was killed — can still find and verify them.
// It exists while the supervisor holds more than the direct child, and is
// removed when the tree is empty; a stale file is harmless because every
// entry is verified by pid and start time before use.
const TreeFile = "tree.json"

// MaxTreeRecords bounds tree.json (SPEC §11.4: 256 processes).
const MaxTreeRecords = 256

// Tree is tree.json.
type Tree struct {
	BootID    string    `json:"boot_id,omitempty"`
	UpdatedAt string    `json:"updated_at"`
	Processes []Process `json:"processes"`
}

// ReadTree reads <dir>/tree.json; a missing file is an empty tree.
func ReadTree(dir string) (*Tree, error) {
	data, err := ReadJSONFile(filepath.Join(dir, TreeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Tree{}, nil
	}
	if err != nil {
		return nil, err
	}
	var t Tree
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, err
	}
	if len(t.Processes) > MaxTreeRecords {
		t.Processes = t.Processes[:MaxTreeRecords]
	}
	return &t, nil
}

// HasTree reports whether tree.json exists (one stat: list uses it to skip
// the tree walk of jobs that never had descendants).
func HasTree(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, TreeFile))
	return err == nil
}

// WriteTree atomically replaces <dir>/tree.json.
func WriteTree(dir string, t *Tree) error {
	if len(t.Processes) > MaxTreeRecords {
		t.Processes = t.Processes[:MaxTreeRecords]
	}
	b, err := marshalNoEscape(t)
	if err != nil {
		return err
	}
	if b, err = indent(b); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, TreeFile), b)
}

// RemoveTree removes <dir>/tree.json if present.
func RemoveTree(dir string) error {
	err := os.Remove(filepath.Join(dir, TreeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
