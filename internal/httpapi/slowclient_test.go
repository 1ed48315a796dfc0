package httpapi_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowBodiesDoNotHoldTheServer opens many connections that send
// headers and then trickle (or withhold) their bodies: /health keeps
// answering, each slow connection is dropped once its body deadline
// passes, and goroutines and descriptors return to their baseline (SPEC
// §9.3).
func TestSlowBodiesDoNotHoldTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("slow-client test skipped in -short mode")
	}
	e := newEnv(t, func(c *envConfig) { c.opts.BodyReadTimeout = time.Second })
	wantOK(t, e.do(http.MethodGet, "/health", ""), "health")
	http.DefaultClient.CloseIdleConnections()
	baseG, baseFD := settle(t, -1, -1)

	const slow = 100
	conns := make([]net.Conn, 0, slow)
	for range slow {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		io.WriteString(c, "POST /exec HTTP/1.1\r\nHost: "+e.addr+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	// Everyone else is still served while they hold their connections.
	start := time.Now()
	wantOK(t, e.do(http.MethodGet, "/health", ""), "health")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("/health took %v under %d slow clients", d, slow)
	}

	// Each slow connection gets an answer or is closed soon after its
	// deadline; none is kept open.
	var wg sync.WaitGroup
	closed := make(chan bool, slow)
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				closed <- resp.StatusCode == http.StatusBadRequest
				return
			}
			closed <- !isTimeout(err)
		}(c)
	}
	wg.Wait()
	close(closed)
	n := 0
	for ok := range closed {
		if ok {
			n++
		}
	}
	if n != slow {
		t.Errorf("%d of %d slow connections were answered 400 or closed by the server", n, slow)
	}
	for _, c := range conns {
		c.Close()
	}
	if n := e.jobCount(); n != 0 {
		t.Errorf("slow clients created %d jobs", n)
	}
	http.DefaultClient.CloseIdleConnections()
	settle(t, baseG, baseFD)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout() || strings.Contains(err.Error(), "timeout")
}
