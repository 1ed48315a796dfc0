//go:build !unix

package httpapi

// fdLimit: no descriptor limit to derive the capacity from.
func fdLimit() uint64 { return 8192 }
