package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/userfile"
	"github.com/agentexec/agentexec/skills"
)

func init() { extraCommands = append(extraCommands, newInstallSkillsCmd) }

// installedSkill is one entry of the install_skills response.
type installedSkill struct {
	Name       string `json:"name"`
	SourceType string `json:"source_type"`
	Path       string `json:"path"`
}

// installSkillsResult is the payload of install-skills (SPEC §4.16).
type installSkillsResult struct {
	Skills       []installedSkill `json:"skills"`
	Global       bool             `json:"global"`
	LockFilePath string           `json:"lock_file_path"`
}

// skillLockEntry is one skill recorded in .agents/.skill-lock.json.
type skillLockEntry struct {
	Name        string `json:"name"`
	SourceType  string `json:"source_type"`
	InstalledAt string `json:"installed_at"`
	Path        string `json:"path"`
}

type skillLock struct {
	Skills []skillLockEntry `json:"skills"`
}

const skillLockFile = ".skill-lock.json"

func newInstallSkillsCmd(a *app) *cobra.Command {
	var source string
	var global bool
	cmd := &cobra.Command{
		Use:   "install-skills [--source self|local:<PATH>] [--global]",
		Short: "Install the bundled agent skill (or a local one) into .agents/skills",
		Args:  exactArgs(0, ""),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		base := filepath.Join(a.sys.Cwd, ".agents")
		if global {
			if a.sys.Home == "" {
				return &agentexec.Error{Code: agentexec.CodeInternal, Message: "install skills: no home directory for --global"}
			}
			base = filepath.Join(a.sys.Home, ".agents")
		}
		var skill installedSkill
		var err error
		switch {
		case source == "self":
			skill, err = installSelf(base)
		case strings.HasPrefix(source, "local:"):
			skill, err = installLocal(base, a.sys.Cwd, source)
		default:
			return &agentexec.Error{Code: agentexec.CodeUnknownSourceScheme,
				Message: fmt.Sprintf("unknown source scheme %q: use self or local:<path>", source)}
		}
		if err != nil {
			return err
		}
		lockPath := filepath.Join(base, skillLockFile)
		if err := upsertSkillLock(lockPath, skill, time.Now()); err != nil {
			return err
		}
		return a.respond("install_skills", installSkillsResult{Skills: []installedSkill{skill}, Global: global, LockFilePath: lockPath})
	})
	cmd.Flags().StringVar(&source, "source", "self", "self (the bundled agent-exec skill) or local:<PATH>")
	cmd.Flags().BoolVar(&global, "global", false, "install under ~/.agents instead of ./.agents")
	return cmd
}

// installSelf writes the embedded skill into <base>/skills/agent-exec,
// overwriting its files and leaving any other file there alone.
func installSelf(base string) (installedSkill, error) {
	target := filepath.Join(base, "skills", skills.Name)
	// A symlink left by a local: install must be replaced, not written
	// through: that would overwrite the linked skill's own files.
	if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
		if err := os.Remove(target); err != nil {
			return installedSkill{}, fmt.Errorf("replace %s: %w", target, err)
		}
	}
	src := skills.FS()
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(target, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return writeFileAtomic(dst, data, 0o644)
	})
	if err != nil {
		return installedSkill{}, fmt.Errorf("install skill %s: %w", skills.Name, err)
	}
	return installedSkill{Name: skills.Name, SourceType: "self", Path: target}, nil
}

// installLocal replaces <base>/skills/<name> by a symlink to the canonical
// PATH (a recursive copy where symlinks are unavailable).
func installLocal(base, cwd, source string) (installedSkill, error) {
	given := strings.TrimPrefix(source, "local:")
	invalid := func(format string, args ...any) (installedSkill, error) {
		return installedSkill{}, &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
	}
	if given == "" {
		return invalid("invalid skill source %q: missing path", source)
	}
	abs := absPath(cwd, given)
	name := filepath.Base(abs)
	if name == string(filepath.Separator) || name == "." || name == ".." || name == "" {
		return invalid("invalid skill source %q: path has no final component", source)
	}
	if _, err := os.Stat(abs); err != nil {
		return invalid("invalid skill source %q: %v", source, errors.Unwrap(err))
	}
	canonical, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return invalid("invalid skill source %q: %v", source, err)
	}
	skillsDir := filepath.Join(base, "skills")
	if err := os.MkdirAll(skillsDir, 0o755); err != nil {
		return installedSkill{}, fmt.Errorf("create %s: %w", skillsDir, err)
	}
	target := filepath.Join(skillsDir, name)
	if canonical == target {
		return invalid("invalid skill source %q: it is the install target itself", source)
	}
	if err := os.RemoveAll(target); err != nil {
		return installedSkill{}, fmt.Errorf("replace %s: %w", target, err)
	}
	if err := os.Symlink(canonical, target); err != nil {
		if err := copyTree(canonical, target); err != nil {
			return installedSkill{}, fmt.Errorf("copy skill %s: %w", name, err)
		}
	}
	return installedSkill{Name: name, SourceType: source, Path: target}, nil
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, in); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}
		return nil // other file types are not part of a skill
	})
}

// upsertSkillLock records skill in the lock file, replacing an entry of the
// same name. An unparseable or unreadable lock file (not a regular file,
// larger than 4 MiB) is treated as empty and replaced.
func upsertSkillLock(path string, s installedSkill, now time.Time) error {
	var lock skillLock
	if data, err := userfile.Read(path, 4<<20); err == nil {
		if json.Unmarshal(data, &lock) != nil {
			lock = skillLock{}
		}
	}
	entry := skillLockEntry{Name: s.Name, SourceType: s.SourceType, InstalledAt: now.UTC().Format(time.RFC3339), Path: s.Path}
	replaced := false
	for i := range lock.Skills {
		if lock.Skills[i].Name == s.Name {
			lock.Skills[i], replaced = entry, true
		}
	}
	if !replaced {
		lock.Skills = append(lock.Skills, entry)
	}
	data, err := json.MarshalIndent(lock, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return writeFileAtomic(path, data, 0o644)
}

// writeFileAtomic replaces path through a temporary file in the same
// directory, so a reader never sees a partial file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	b := make([]byte, 8)
	rand.Read(b)
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+hex.EncodeToString(b))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), werr)
	}
	return nil
}
