package httpapi

import "testing"

func TestDefaultMaxConns(t *testing.T) {
	for fds, want := range map[uint64]int{0: 16, 64: 16, 80: 16, 256: 144, 1024: 720, 20000: 4096, 1 << 20: 4096} {
		if got := defaultMaxConns(fds); got != want {
			t.Errorf("defaultMaxConns(%d) = %d; want %d", fds, got, want)
		}
	}
}
