//go:build windows

package store

const syscallNonblock = 0

const syscallNoFollow = 0
