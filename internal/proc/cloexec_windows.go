//go:build windows

package proc

// CloseInheritedOnExec is a no-op: Windows handles are not inherited
// unless marked inheritable.
func CloseInheritedOnExec() {}
