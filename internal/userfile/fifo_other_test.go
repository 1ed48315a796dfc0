//go:build !unix

package userfile_test

import "testing"

func mkfifo(t *testing.T) string {
	t.Skip("no FIFOs on this platform")
	return ""
}
