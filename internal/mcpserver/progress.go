package mcpserver

import (
	"context"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Progress notifications (SPEC §11.3): a run or wait call that carries
// _meta.progressToken gets notifications/progress at most once per second
// while it waits, with progress = elapsed ms and message = the job's
// newest output line.

// progressEvery is the interval between notifications.
var progressEvery = time.Second

// progressLineRunes bounds a notification's message.
const progressLineRunes = 200

type progressKey struct{}

// progressSink sends the notifications of one call.
type progressSink struct {
	notify func(ctx context.Context, elapsed time.Duration, msg string)
	began  time.Time
}

// withProgress attaches a sink to ctx when the request asks for progress.
func withProgress(ctx context.Context, req *mcp.CallToolRequest) context.Context {
	if req == nil || req.Params == nil || req.Session == nil {
		return ctx
	}
	tok := req.Params.GetProgressToken()
	if tok == nil {
		return ctx
	}
	ss := req.Session
	return context.WithValue(ctx, progressKey{}, &progressSink{began: time.Now(),
		notify: func(ctx context.Context, elapsed time.Duration, msg string) {
			ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(elapsed.Milliseconds()), Message: msg})
		}})
}

// reportProgress starts the notifications for job id if the call asked
// for them; the returned stop ends them and waits until none is in flight.
func (s *server) reportProgress(ctx context.Context, id string) (stop func()) {
	sink, _ := ctx.Value(progressKey{}).(*progressSink)
	if sink == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				line, err := s.m.LastLine(id, progressLineRunes)
				if err != nil {
					return
				}
				sink.notify(ctx, time.Since(sink.began), line)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
