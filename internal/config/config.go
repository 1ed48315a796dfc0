// Package config loads the agent-exec configuration file, config.toml
// (SPEC §8).
//
// The file is optional: a missing default file means "all defaults", while a
// missing file named explicitly (--config) is an error. Unknown sections and
// keys are ignored. Every other problem (TOML syntax, a wrong value type, an
// empty shell array, a malformed duration, an out-of-range number) is
// reported as an *Error naming the file and, where known, the line and key;
// callers map it to the invalid_config error code.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/userfile"
)

// Built-in defaults (SPEC §8).
const (
	DefaultGCAuto         = true
	DefaultGCOlderThanRaw = "30d"
	DefaultGCOlderThan    = 30 * 24 * time.Hour
	DefaultGCScanLimit    = 200
	DefaultGCDeleteLimit  = 20
	DefaultNotifyTimeout  = 30000 * time.Millisecond
	DefaultStdinMaxBytes  = 64 << 20 // 67108864
	DefaultStdinGrace     = 50 * time.Millisecond
)

// Config is the effective configuration: the built-in defaults overlaid with
// whatever the configuration file sets.
type Config struct {
	ShellUnix      []string      // shell.unix: job wrapper argv on Linux and macOS
	ShellWindows   []string      // shell.windows: job wrapper argv on Windows
	GCAuto         bool          // gc.auto: automatic GC after launches (§3.12)
	GCOlderThan    time.Duration // gc.older_than, parsed; may be duration.Never
	GCOlderThanRaw string        // gc.older_than as written, e.g. "30d"
	GCScanLimit    int           // gc.scan_limit (≥ 1)
	GCDeleteLimit  int           // gc.delete_limit (≥ 0)
	GCMaxJobs      int64         // gc.max_jobs (≥ 0; 0 = no cap): automatic GC keeps at most this many terminal jobs
	GCMaxBytes     int64         // gc.max_bytes (≥ 0; 0 = no cap): automatic GC keeps the root at most this large
	NotifyTimeout  time.Duration // notify.timeout_ms, as a duration; may be duration.Never
	StdinMaxBytes  int64         // stdin.max_bytes (≥ 0)
	StdinGrace     time.Duration // stdin.grace_ms: how long run waits for a piped stdin's first byte
	Path           string        // the file actually loaded; "" when only defaults apply
	// FullLog is [logs] full_log: whether jobs write full.log (default true).
	FullLog bool
	// Backend is [backend] default: where new jobs run, "local" or "slurm".
	Backend string
	// Slurm holds the [slurm] submission defaults.
	Slurm SlurmDefaults
}

// Default returns the built-in configuration. Each call returns fresh
// slices, so callers may modify the result.
func Default() Config {
	return Config{
		ShellUnix:      []string{"sh", "-lc"},
		ShellWindows:   []string{"cmd", "/C"},
		GCAuto:         DefaultGCAuto,
		GCOlderThan:    DefaultGCOlderThan,
		GCOlderThanRaw: DefaultGCOlderThanRaw,
		GCScanLimit:    DefaultGCScanLimit,
		GCDeleteLimit:  DefaultGCDeleteLimit,
		NotifyTimeout:  DefaultNotifyTimeout,
		StdinMaxBytes:  DefaultStdinMaxBytes,
		FullLog:        true,
		StdinGrace:     DefaultStdinGrace,
	}
}

// Shell returns the configured wrapper argv for the running platform.
func (c Config) Shell() []string {
	if runtime.GOOS == "windows" {
		return c.ShellWindows
	}
	return c.ShellUnix
}

// DefaultPath returns where the configuration file is looked for when no
// explicit path is given:
//
//  1. $XDG_CONFIG_HOME/agent-exec/config.toml, if XDG_CONFIG_HOME is set and
//     absolute (a relative value is ignored, as the XDG specification
//     requires);
//  2. on Windows, %APPDATA%\agent-exec\config.toml (falling back to
//     <home>\AppData\Roaming when APPDATA is unset);
//     elsewhere <home>/.config/agent-exec/config.toml;
//  3. "" when no home directory is known.
//
// getenv is typically os.Getenv (nil means os.Getenv); home is typically the
// result of os.UserHomeDir, or "" if that failed.
func DefaultPath(getenv func(string) string, home string) string {
	return defaultPath(runtime.GOOS, getenv, home)
}

func defaultPath(goos string, getenv func(string) string, home string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "agent-exec", "config.toml")
	}
	if goos == "windows" {
		if a := getenv("APPDATA"); a != "" && filepath.IsAbs(a) {
			return filepath.Join(a, "agent-exec", "config.toml")
		}
		if home != "" {
			return filepath.Join(home, "AppData", "Roaming", "agent-exec", "config.toml")
		}
		return ""
	}
	if home != "" {
		return filepath.Join(home, ".config", "agent-exec", "config.toml")
	}
	return ""
}

// Load reads the configuration.
//
// If explicitPath is non-empty (--config), that file must exist; a missing
// file is an *Error. Otherwise the file at DefaultPath(getenv, home) is read
// if it exists, and a missing default file (or no default path at all)
// yields Default() with Path "". On success Path names the file loaded.
// Every failure is an *Error; the returned Config is then the zero value.
func Load(explicitPath string, getenv func(string) string, home string) (Config, error) {
	path := explicitPath
	if path == "" {
		path = DefaultPath(getenv, home)
		if path == "" {
			return Default(), nil
		}
	}
	data, err := userfile.Read(path, MaxFileSize)
	if err != nil {
		if isNotExist(err) {
			if explicitPath == "" {
				return Default(), nil
			}
			return Config{}, &Error{Path: path, Msg: "file does not exist", Err: err}
		}
		return Config{}, &Error{Path: path, Msg: "read file: " + userfile.Describe(err), Err: err}
	}
	if n := nesting(string(data)); n > maxNesting {
		return Config{}, &Error{Path: path, Msg: fmt.Sprintf("nested more than %d levels deep", maxNesting)}
	}
	return parse(path, data)
}

// MaxFileSize bounds the configuration file: a real one is a few hundred
// bytes, and a path naming /dev/zero or a huge file must not exhaust memory.
const MaxFileSize = 256 << 10

// isNotExist reports whether err means there is no file at the path,
// including a path component that is not a directory (~/.config a file).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
