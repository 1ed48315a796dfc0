package config

import "strconv"

// Error is a configuration-file problem; callers report it as
// invalid_config. Its message names the file, then the line and key when
// they are known:
//
//	invalid config file /x/config.toml: line 3: expected a top-level item to end with ...
//	invalid config file /x/config.toml: line 5: gc.older_than: invalid duration "7x": ...
//	invalid config file /x/config.toml: file does not exist
type Error struct {
	Path string // the configuration file, as given or resolved
	Line int    // 1-based line of the problem; 0 when unknown
	Key  string // dotted key such as "shell.unix"; "" for file-level problems
	Msg  string // what is wrong
	Err  error  // underlying cause (I/O, TOML, duration error), if any
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "invalid config file " + e.Path + ": "
	if e.Line > 0 {
		s += "line " + strconv.Itoa(e.Line) + ": "
	}
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }
