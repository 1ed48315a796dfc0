package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/config"
	"github.com/agentexec/agentexec/internal/duration"
)

// env returns a getenv func over a fixed map, so tests never read the real
// environment.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// writeConfig writes content to dir/name and returns the path.
func writeConfig(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadString loads content from an explicit temporary file.
func loadString(t *testing.T, content string) (config.Config, string, error) {
	t.Helper()
	path := writeConfig(t, t.TempDir(), "config.toml", content)
	c, err := config.Load(path, env(nil), "")
	return c, path, err
}

func TestDefault(t *testing.T) {
	c := config.Default()
	want := config.Config{
		ShellUnix:      []string{"sh", "-lc"},
		ShellWindows:   []string{"cmd", "/C"},
		GCAuto:         true,
		GCOlderThan:    30 * 24 * time.Hour,
		GCOlderThanRaw: "30d",
		GCScanLimit:    200,
		GCDeleteLimit:  20,
		NotifyTimeout:  30000 * time.Millisecond,
		StdinMaxBytes:  67108864,
		StdinGrace:     50 * time.Millisecond,
		FullLog:        true,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Default() = %+v\nwant %+v", c, want)
	}
	// Fresh slices each call.
	c.ShellUnix[0] = "zsh"
	if got := config.Default().ShellUnix[0]; got != "sh" {
		t.Fatalf("Default() shares its slices: ShellUnix[0] = %q", got)
	}
}

func TestDefaultPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix layout")
	}
	tests := []struct {
		name string
		env  map[string]string
		home string
		want string
	}{
		{"xdg", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, "/home/u", "/xdg/agent-exec/config.toml"},
		{"xdg without home", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, "", "/xdg/agent-exec/config.toml"},
		{"xdg relative ignored", map[string]string{"XDG_CONFIG_HOME": "rel/xdg"}, "/home/u", "/home/u/.config/agent-exec/config.toml"},
		{"xdg empty ignored", map[string]string{"XDG_CONFIG_HOME": ""}, "/home/u", "/home/u/.config/agent-exec/config.toml"},
		{"home", nil, "/home/u", "/home/u/.config/agent-exec/config.toml"},
		{"APPDATA ignored off windows", map[string]string{"APPDATA": "/appdata"}, "/home/u", "/home/u/.config/agent-exec/config.toml"},
		{"nothing", nil, "", ""},
		{"relative xdg and no home", map[string]string{"XDG_CONFIG_HOME": "x"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.DefaultPath(env(tt.env), tt.home); got != tt.want {
				t.Fatalf("DefaultPath = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestLoadDefaultsWhenMissing(t *testing.T) {
	tmp := t.TempDir()
	notDir := writeConfig(t, tmp, "file", "")
	tests := []struct {
		name string
		env  map[string]string
		home string
	}{
		{"no home, no xdg", nil, ""},
		{"home without file", nil, filepath.Join(tmp, "home")},
		{"xdg without file", map[string]string{"XDG_CONFIG_HOME": filepath.Join(tmp, "xdg")}, ""},
		{"home is a file", nil, notDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load("", env(tt.env), tt.home)
			if err != nil {
				t.Fatal(err)
			}
			if want := config.Default(); !reflect.DeepEqual(c, want) {
				t.Fatalf("Load = %+v; want defaults", c)
			}
		})
	}
}

func TestLoadDefaultLocations(t *testing.T) {
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	xdg := filepath.Join(tmp, "xdg")
	homeFile := writeConfig(t, home, ".config/agent-exec/config.toml", "[gc]\nscan_limit = 7\n")
	xdgFile := writeConfig(t, xdg, "agent-exec/config.toml", "[gc]\nscan_limit = 9\n")

	tests := []struct {
		name      string
		env       map[string]string
		wantPath  string
		wantLimit int
	}{
		{"home", nil, homeFile, 7},
		{"xdg wins", map[string]string{"XDG_CONFIG_HOME": xdg}, xdgFile, 9},
		{"relative xdg ignored", map[string]string{"XDG_CONFIG_HOME": "xdg"}, homeFile, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load("", env(tt.env), home)
			if err != nil {
				t.Fatal(err)
			}
			if c.Path != tt.wantPath || c.GCScanLimit != tt.wantLimit {
				t.Fatalf("Load: Path=%q GCScanLimit=%d; want %q, %d", c.Path, c.GCScanLimit, tt.wantPath, tt.wantLimit)
			}
		})
	}
}

func TestLoadExplicitWinsOverDefault(t *testing.T) {
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	writeConfig(t, home, ".config/agent-exec/config.toml", "[gc]\nscan_limit = 7\n")
	explicit := writeConfig(t, tmp, "other.toml", "[gc]\nscan_limit = 3\n")
	c, err := config.Load(explicit, env(nil), home)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != explicit || c.GCScanLimit != 3 {
		t.Fatalf("Load: Path=%q GCScanLimit=%d; want %q, 3", c.Path, c.GCScanLimit, explicit)
	}
}

func TestLoadExplicitMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := config.Load(path, env(nil), "")
	cerr, ok := errors.AsType[*config.Error](err)
	if !ok {
		t.Fatalf("Load(missing) error = %v; want *config.Error", err)
	}
	if cerr.Path != path || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %+v; want Path %q wrapping fs.ErrNotExist", cerr, path)
	}
	if want := "invalid config file " + path + ": file does not exist"; err.Error() != want {
		t.Fatalf("message = %q; want %q", err.Error(), want)
	}
}

func TestLoadExplicitDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := config.Load(dir, env(nil), "")
	cerr, ok := errors.AsType[*config.Error](err)
	if !ok || cerr.Path != dir || !strings.HasPrefix(err.Error(), "invalid config file "+dir+": ") {
		t.Fatalf("Load(dir) error = %v; want *config.Error naming %s", err, dir)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	c, path, err := loadString(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Path = path
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load(empty) = %+v; want defaults with Path", c)
	}
}

func TestLoadKeys(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mutate  func(*config.Config)
	}{
		{"shell.unix", "[shell]\nunix = [\"bash\", \"-c\"]\n",
			func(c *config.Config) { c.ShellUnix = []string{"bash", "-c"} }},
		{"shell.windows", "[shell]\nwindows = [\"pwsh\", \"-Command\"]\n",
			func(c *config.Config) { c.ShellWindows = []string{"pwsh", "-Command"} }},
		{"shell single element", "[shell]\nunix = [\"/bin/run-it\"]\n",
			func(c *config.Config) { c.ShellUnix = []string{"/bin/run-it"} }},
		{"gc.auto", "[gc]\nauto = false\n",
			func(c *config.Config) { c.GCAuto = false }},
		{"gc.older_than", "[gc]\nolder_than = \"7d\"\n",
			func(c *config.Config) { c.GCOlderThan, c.GCOlderThanRaw = 7*24*time.Hour, "7d" }},
		{"gc.older_than ms", "[gc]\nolder_than = \"500ms\"\n",
			func(c *config.Config) { c.GCOlderThan, c.GCOlderThanRaw = 500*time.Millisecond, "500ms" }},
		{"gc.older_than never", "[gc]\nolder_than = \"18446744073709551615ms\"\n",
			func(c *config.Config) { c.GCOlderThan, c.GCOlderThanRaw = duration.Never, "18446744073709551615ms" }},
		{"gc.scan_limit", "[gc]\nscan_limit = 1\n",
			func(c *config.Config) { c.GCScanLimit = 1 }},
		{"gc.max_jobs", "[gc]\nmax_jobs = 2\n",
			func(c *config.Config) { c.GCMaxJobs = 2 }},
		{"gc.max_bytes", "[gc]\nmax_bytes = 1048576\n",
			func(c *config.Config) { c.GCMaxBytes = 1048576 }},
		{"gc caps zero", "[gc]\nmax_jobs = 0\nmax_bytes = 0\n",
			func(c *config.Config) {}},
		{"gc.delete_limit zero", "[gc]\ndelete_limit = 0\n",
			func(c *config.Config) { c.GCDeleteLimit = 0 }},
		{"notify.timeout_ms", "[notify]\ntimeout_ms = 10000\n",
			func(c *config.Config) { c.NotifyTimeout = 10 * time.Second }},
		{"notify.timeout_ms huge", "[notify]\ntimeout_ms = 9223372036854775807\n",
			func(c *config.Config) { c.NotifyTimeout = duration.Never }},
		{"stdin.max_bytes", "[stdin]\nmax_bytes = 1024\n",
			func(c *config.Config) { c.StdinMaxBytes = 1024 }},
		{"stdin.max_bytes zero", "[stdin]\nmax_bytes = 0\n",
			func(c *config.Config) { c.StdinMaxBytes = 0 }},
		{"stdin.grace_ms", "[stdin]\ngrace_ms = 500\n",
			func(c *config.Config) { c.StdinGrace = 500 * time.Millisecond }},
		{"stdin.grace_ms zero", "[stdin]\ngrace_ms = 0\n",
			func(c *config.Config) { c.StdinGrace = 0 }},
		{"dotted keys", "gc.auto = false\nstdin.max_bytes = 5\n",
			func(c *config.Config) { c.GCAuto, c.StdinMaxBytes = false, 5 }},
		{"inline table", "gc = { scan_limit = 50, delete_limit = 5 }\n",
			func(c *config.Config) { c.GCScanLimit, c.GCDeleteLimit = 50, 5 }},
		{"spec example", "[shell]\nunix = [\"bash\", \"-c\"]\n\n[gc]\nolder_than = \"7d\"\n\n[notify]\ntimeout_ms = 10000\n",
			func(c *config.Config) {
				c.ShellUnix = []string{"bash", "-c"}
				c.GCOlderThan, c.GCOlderThanRaw = 7*24*time.Hour, "7d"
				c.NotifyTimeout = 10 * time.Second
			}},
		{"unknown sections and keys ignored",
			"top = 1\n[shell]\nunix = [\"bash\", \"-c\"]\nzsh = 5\n[gc]\nfuture = \"x\"\nAUTO = \"not checked\"\n[serve]\nport = \"x\"\n[[hooks]]\nx = 1\n",
			func(c *config.Config) { c.ShellUnix = []string{"bash", "-c"} }},
		{"comments and BOM", "\ufeff# config\n[gc] # section\nauto = false # off\n",
			func(c *config.Config) { c.GCAuto = false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path, err := loadString(t, tt.content)
			if err != nil {
				t.Fatal(err)
			}
			want := config.Default()
			want.Path = path
			tt.mutate(&want)
			if !reflect.DeepEqual(c, want) {
				t.Fatalf("Load = %+v\nwant %+v", c, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		line    int
		key     string
		msg     string // substring of the message after the location
	}{
		{"syntax", "[gc]\nauto = true\nolder_than = \n", 3, "", ""},
		{"syntax unterminated string", "[shell]\nunix = [\"sh]\n", 2, "", ""},
		{"syntax duplicate key", "[gc]\nauto = true\nauto = false\n", 3, "", ""},
		{"syntax bad header", "[gc x]\n", 1, "", ""},
		{"shell.unix string", "[shell]\nunix = \"bash\"\n", 2, "shell.unix", "expected an array of strings, found string"},
		{"shell.unix empty", "[shell]\n\nunix = []\n", 3, "shell.unix", "must not be empty"},
		{"shell.windows empty", "[shell]\nwindows = []\n", 2, "shell.windows", "must not be empty"},
		{"shell.unix mixed", "[shell]\nunix = [\"sh\", 1]\n", 2, "shell.unix", "found integer at index 1"},
		{"shell not a table", "shell = 5\n", 1, "shell", "expected a table, found integer"},
		{"gc array of tables", "[[gc]]\nauto = true\n", 1, "gc", "expected a table, found array of tables"},
		{"gc.auto string", "[gc]\nauto = \"yes\"\n", 2, "gc.auto", "expected a boolean, found string"},
		{"gc.older_than bad", "[gc]\nauto = true\n\nolder_than = \"7x\"\n", 4, "gc.older_than", `invalid duration "7x"`},
		{"gc.older_than no unit", "[gc]\nolder_than = \"30\"\n", 2, "gc.older_than", "missing unit"},
		{"gc.older_than compound", "[gc]\nolder_than = \"1h30m\"\n", 2, "gc.older_than", `invalid duration "1h30m"`},
		{"gc.older_than integer", "[gc]\nolder_than = 30\n", 2, "gc.older_than", "found integer"},
		{"gc.older_than overflow", "[gc]\nolder_than = \"99999999999999999999d\"\n", 2, "gc.older_than", "exceeds"},
		{"gc.scan_limit zero", "[gc]\nscan_limit = 0\n", 2, "gc.scan_limit", "must be at least 1, found 0"},
		{"gc.scan_limit negative", "[gc]\nscan_limit = -1\n", 2, "gc.scan_limit", "must be at least 1"},
		{"gc.scan_limit float", "[gc]\nscan_limit = 200.0\n", 2, "gc.scan_limit", "expected an integer, found float"},
		{"gc.delete_limit negative", "[gc]\ndelete_limit = -1\n", 2, "gc.delete_limit", "must be at least 0, found -1"},
		{"gc.delete_limit string", "[gc]\ndelete_limit = \"20\"\n", 2, "gc.delete_limit", "expected an integer, found string"},
		// Issue #14: the caps were silently ignored, wrong types included.
		{"gc.max_jobs string", "[gc]\nmax_jobs = \"x\"\n", 2, "gc.max_jobs", "expected an integer, found string"},
		{"gc.max_jobs negative", "[gc]\nauto = true\nmax_jobs = -1\n", 3, "gc.max_jobs", "must be at least 0, found -1"},
		{"gc.max_jobs float", "[gc]\nmax_jobs = 2.5\n", 2, "gc.max_jobs", "expected an integer, found float"},
		{"gc.max_bytes string", "[gc]\nmax_bytes = \"1MiB\"\n", 2, "gc.max_bytes", "expected an integer, found string"},
		{"gc.max_bytes negative", "[gc]\nmax_bytes = -5\n", 2, "gc.max_bytes", "must be at least 0, found -5"},
		{"notify.timeout_ms zero", "[notify]\ntimeout_ms = 0\n", 2, "notify.timeout_ms", "must be at least 1"},
		{"notify.timeout_ms string", "[notify]\ntimeout_ms = \"30s\"\n", 2, "notify.timeout_ms", "expected an integer, found string"},
		{"stdin.max_bytes negative", "[stdin]\nmax_bytes = -5\n", 2, "stdin.max_bytes", "must be at least 0, found -5"},
		{"stdin.max_bytes bool", "[stdin]\nmax_bytes = true\n", 2, "stdin.max_bytes", "found boolean"},
		{"stdin.grace_ms negative", "[stdin]\ngrace_ms = -1\n", 2, "stdin.grace_ms", "must be at least 0, found -1"},
		{"dotted key type error", "gc.auto = 1\n", 1, "gc.auto", "expected a boolean, found integer"},
		{"inline table type error", "gc = { auto = 1 }\n", 1, "gc.auto", "expected a boolean, found integer"},
		// Keys are checked in table order, so the first error is stable.
		{"first error wins", "[stdin]\nmax_bytes = -1\n[shell]\nunix = []\n", 4, "shell.unix", "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path, err := loadString(t, tt.content)
			cerr, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("Load = %+v, %v; want *config.Error", c, err)
			}
			if cerr.Path != path || cerr.Line != tt.line || cerr.Key != tt.key || !strings.Contains(cerr.Msg, tt.msg) {
				t.Fatalf("error = %#v; want Path %q Line %d Key %q Msg containing %q", cerr, path, tt.line, tt.key, tt.msg)
			}
			prefix := "invalid config file " + path + ": "
			if tt.line > 0 {
				prefix += "line " + strconv.Itoa(tt.line) + ": "
			}
			if tt.key != "" {
				prefix += tt.key + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("message = %q; want prefix %q", err.Error(), prefix)
			}
			if c.Path != "" || c.ShellUnix != nil {
				t.Fatalf("Load returned a non-zero Config with an error: %+v", c)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *config.Error
		want string
	}{
		{&config.Error{Path: "/x/config.toml", Line: 3, Msg: "bad"}, "invalid config file /x/config.toml: line 3: bad"},
		{&config.Error{Path: "/x/config.toml", Key: "gc.older_than", Msg: `invalid duration "7x"`},
			`invalid config file /x/config.toml: gc.older_than: invalid duration "7x"`},
		{&config.Error{Path: "/x/config.toml", Line: 2, Key: "shell.unix", Msg: "m"},
			"invalid config file /x/config.toml: line 2: shell.unix: m"},
		{&config.Error{Path: "/x/c.toml", Msg: "file does not exist"}, "invalid config file /x/c.toml: file does not exist"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}

func TestLoadDurationErrorUnwraps(t *testing.T) {
	_, _, err := loadString(t, "[gc]\nolder_than = \"7x\"\n")
	if !errors.Is(err, duration.ErrSyntax) {
		t.Fatalf("error %v does not wrap duration.ErrSyntax", err)
	}
}

func TestLoadDefaultFileInvalid(t *testing.T) {
	// A broken default file is an error too, not silently ignored.
	home := t.TempDir()
	path := writeConfig(t, home, ".config/agent-exec/config.toml", "x = 1\n[gc x]\n")
	_, err := config.Load("", env(nil), home)
	if cerr, ok := errors.AsType[*config.Error](err); !ok || cerr.Path != path || cerr.Line != 2 {
		t.Fatalf("Load = %v; want *config.Error at %s line 2", err, path)
	}
}

func TestDefaultPathWindowsLayout(t *testing.T) {
	// The Windows branch, exercised with host-absolute paths so it runs on
	// every platform.
	abs := func(parts ...string) string {
		return filepath.Join(append([]string{string(filepath.Separator)}, parts...)...)
	}
	tests := []struct {
		name string
		env  map[string]string
		home string
		want string
	}{
		{"xdg first", map[string]string{"XDG_CONFIG_HOME": abs("xdg"), "APPDATA": abs("ad")}, abs("h"),
			abs("xdg", "agent-exec", "config.toml")},
		{"appdata", map[string]string{"APPDATA": abs("ad")}, abs("h"), abs("ad", "agent-exec", "config.toml")},
		{"relative appdata falls back to home", map[string]string{"APPDATA": "ad"}, abs("h"),
			abs("h", "AppData", "Roaming", "agent-exec", "config.toml")},
		{"home", nil, abs("h"), abs("h", "AppData", "Roaming", "agent-exec", "config.toml")},
		{"nothing", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.DefaultPathFor("windows", env(tt.env), tt.home); got != tt.want {
				t.Fatalf("defaultPath(windows) = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultPathNilGetenv(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(t.TempDir(), "xdg"))
	want := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "agent-exec", "config.toml")
	if got := config.DefaultPath(nil, ""); got != want {
		t.Fatalf("DefaultPath(nil) = %q; want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "[shell]\nunix = [\"bash\", \"-c\"]\n", "[gc]\nolder_than = \"7x\"\n", "shell = 5",
		"gc = { auto = 1 }", "[[gc]]\n", "[gc\n", "[stdin]\nmax_bytes = -1\n[shell]\nunix = []\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.ParseBytes("/fuzz/config.toml", data)
		if err != nil {
			cerr, ok := errors.AsType[*config.Error](err)
			if !ok || cerr.Path != "/fuzz/config.toml" {
				t.Fatalf("error %v is not a *config.Error naming the file", err)
			}
			return
		}
		if len(c.ShellUnix) == 0 || len(c.ShellWindows) == 0 || c.GCScanLimit < 1 || c.GCDeleteLimit < 0 ||
			c.NotifyTimeout < time.Millisecond || c.StdinMaxBytes < 0 || c.StdinGrace < 0 || c.GCOlderThan < 0 || c.GCMaxJobs < 0 || c.GCMaxBytes < 0 {
			t.Fatalf("accepted invalid config %+v", c)
		}
	})
}
