package store

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// NewID returns a new ULID: a 48-bit millisecond timestamp followed by 80
// random bits from the CSPRNG, so ids sort by creation millisecond. Within
// one process, ids of the same millisecond are monotonic (the random part
// is incremented), so they also sort in creation order: list and /jobs
// order jobs created at once as they were created.
func NewID(now time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(now), idEntropy)
	if err != nil { // the random part overflowed within one millisecond
		id = ulid.MustNew(ulid.Timestamp(now), rand.Reader)
	}
	return id.String()
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// ValidID reports whether s may name a job or a job-id prefix: 1–64 ASCII
// letters or digits. It is checked before any path is built, so no input can
// address a file outside the root.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
