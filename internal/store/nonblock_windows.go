//go:build windows

package store

const syscallNonblock = 0
