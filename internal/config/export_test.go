package config

// Test hooks.
var (
	DefaultPathFor = defaultPath
	ParseBytes     = parse
)
