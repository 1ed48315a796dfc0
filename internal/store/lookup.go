package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNotFound means no job matches.
var ErrNotFound = errors.New("job not found")

// AmbiguousError lists the job ids a prefix matched, sorted.
type AmbiguousError struct {
	Prefix     string
	Candidates []string
}

func (e *AmbiguousError) Error() string { return "ambiguous job id prefix " + e.Prefix }

// Resolve finds the job named by s, an already validated id or prefix: an
// exact directory name wins; otherwise the unique directory whose name starts
// with s. Only directory names are read.
func Resolve(root, s string) (string, error) {
	// Lstat: a symbolic link in the root is never a job (it would redirect
	// the job's files elsewhere).
	if fi, err := os.Lstat(filepath.Join(root, s)); err == nil && fi.IsDir() {
		return s, nil
	}
	names, err := JobNames(root)
	if err != nil {
		return "", err
	}
	var matches []string
	for _, n := range names {
		if strings.HasPrefix(n, s) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return "", ErrNotFound
	case 1:
		return matches[0], nil
	}
	slices.Sort(matches)
	return "", &AmbiguousError{Prefix: s, Candidates: matches}
}

// JobNames lists the entries of root that are directories with valid id
// names, unsorted: the candidates of an id lookup. A missing root yields no
// names.
func JobNames(root string) ([]string, error) { return dirNames(root, true) }

// EntryNames lists every directory of root whose name does not start with
// '.', valid id or not, unsorted: what list, gc and delete --all examine
// (a stray directory is reported, not hidden).
func EntryNames(root string) ([]string, error) {
	names, _, err := ScanRoot(root)
	return names, err
}

// ScanRoot is EntryNames that also returns, from the same directory read,
// the reserved staging (.new-) and deleting (.del-) directories of the
// root: what crashed creators and deleters leave behind.
func ScanRoot(root string) (names, reserved []string, err error) {
	d, err := os.Open(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, nil, err
	}
	names = make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		switch {
		case !e.IsDir(): // a symbolic link is not a job directory either
		case strings.HasPrefix(n, StagingPrefix) || strings.HasPrefix(n, DeletingPrefix):
			reserved = append(reserved, n)
		case !strings.HasPrefix(n, "."):
			names = append(names, n)
		}
	}
	return names, reserved, nil
}

func dirNames(root string, validOnly bool) ([]string, error) {
	d, err := os.Open(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || validOnly && !ValidID(n) {
			continue
		}
		// A symbolic link, even to a directory, is not a job directory;
		// like a plain file it is ignored.
		if e.IsDir() {
			names = append(names, n)
		}
	}
	return names, nil
}
