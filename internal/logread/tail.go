package logread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Stream is the tail of one log stream (SPEC §3.10 steps 3–7).
type Stream struct {
	Text          string
	Truncated     bool
	ObservedBytes int64 // file size S
	IncludedBytes int64 // UTF-8 length of Text; may exceed ObservedBytes
}

// File tails the log at path: it reads only the last min(S, maxBytes) bytes
// with ReadAt, so the cost is O(maxBytes) whatever the file size. A missing,
// unreadable or non-regular file yields the zero Stream. tailLines 0 means no
// line limit. Negative arguments are treated as 0.
func File(path string, tailLines int, maxBytes int64) Stream {
	f, err := openLog(path)
	if err != nil {
		return Stream{}
	}
	defer f.Close()
	maxBytes = max(maxBytes, 0)
	var buf []byte
	// A concurrent truncation (restart) can shrink the file between fstat and
	// ReadAt; retry a few times so the window still ends at the file's end.
	for range 3 {
		fi, err := f.Stat()
		if err != nil {
			return Stream{}
		}
		size := fi.Size()
		n := min(size, maxBytes)
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		got, err := f.ReadAt(buf, size-n)
		if err == nil || (errors.Is(err, io.EOF) && int64(got) == n) {
			return Bytes(buf, size, tailLines, maxBytes)
		}
		if !errors.Is(err, io.EOF) {
			return Stream{}
		}
		buf = buf[:got]
	}
	// Still being truncated under us: report what was read.
	fi, err := f.Stat()
	if err != nil {
		return Stream{}
	}
	return Bytes(buf, fi.Size(), tailLines, maxBytes)
}

// errNotLog reports a log path that holds something other than a regular
// file; readers treat it as a missing log.
var errNotLog = fmt.Errorf("not a regular file: %w", os.ErrNotExist)

// openLog opens a log for reading. Lstat first: a FIFO, device or symbolic
// link is not a log. The open then neither follows a link nor blocks on a
// FIFO swapped in meanwhile (a log is job data anyone with access to the
// root can shape).
func openLog(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errNotLog
	}
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, errNotLog
	}
	return f, nil
}

// Bytes applies SPEC §3.10 steps 2–7 to data, the final len(data) bytes of a
// stream whose total size is size (len(data) <= size is expected; size is
// reported as ObservedBytes). Only the last min(len(data), maxBytes) bytes of
// data are used. Bytes(content, int64(len(content)), n, m) gives the result
// for a file holding content.
func Bytes(data []byte, size int64, tailLines int, maxBytes int64) Stream {
	maxBytes = max(maxBytes, 0)
	if int64(len(data)) > maxBytes {
		data = data[int64(len(data))-maxBytes:]
	}
	text, lineTrunc := Lines(Decode(data), tailLines)
	return Stream{
		Text:          text,
		Truncated:     size > maxBytes || lineTrunc,
		ObservedBytes: size,
		IncludedBytes: int64(len(text)),
	}
}

// Lines applies SPEC §3.10 steps 4–5 to decoded text: it keeps the last
// tailLines lines (0 or less: text unchanged) and reports whether any line was
// dropped. Lines end at '\n'; a final '\n' does not start an empty line; one
// '\r' is removed from each line that was followed by '\n'.
func Lines(text string, tailLines int) (string, bool) {
	if tailLines <= 0 {
		return text, false
	}
	body, endsNL := strings.CutSuffix(text, "\n")
	// The kept lines start after the tailLines-th separator from the end;
	// scanning back avoids splitting the whole text.
	start, truncated := 0, true
	end := len(body)
	for range tailLines {
		i := strings.LastIndexByte(body[:end], '\n')
		if i < 0 {
			truncated = false
			break
		}
		end = i
	}
	if truncated {
		start = end + 1
	}
	seg := body[start:]
	if strings.IndexByte(seg, '\r') < 0 {
		return seg, truncated // common case: a substring, no copy
	}
	if endsNL {
		seg = strings.TrimSuffix(seg, "\r")
	}
	return strings.ReplaceAll(seg, "\r\n", "\n"), truncated
}

// LinesStart returns the offset where the last tailLines lines of the log
// at path begin (as the tail algorithm counts them), looking at most
// maxBytes back: where tail -f starts. tailLines 0 or less means the start
// of that window. A missing log gives 0.
func LinesStart(path string, tailLines int, maxBytes int64) int64 {
	f, err := openLog(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	size := fi.Size()
	n := min(size, max(maxBytes, 0))
	buf := make([]byte, n)
	got, _ := f.ReadAt(buf, size-n)
	buf = buf[:got]
	base := size - n
	if tailLines <= 0 {
		return base
	}
	end := len(buf)
	if end > 0 && buf[end-1] == '\n' {
		end-- // a final newline does not start an empty line
	}
	for range tailLines {
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 {
			return base
		}
		end = i
	}
	return base + int64(end) + 1
}
