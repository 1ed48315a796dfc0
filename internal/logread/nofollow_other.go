//go:build !unix

package logread

const noFollow = 0
