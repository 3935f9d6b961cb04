package ports

import (
	"sync"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/reporting/app"
)

// renderedLimit bounds the records rendered and kept: as many as the
// app keeps (platform/viewcache's default).
const renderedLimit = 2048

// renderedRecords keeps the message GetRecord rendered for each record
// the app kept: app.Reporting.Record returns the same *app.Record while
// the request has no new event, and a record's message does not depend on
// the time, so it is rendered once. The message is shared by every
// response that carries it; gRPC only reads it (marshalling is safe for
// concurrent use). The zero value is ready.
type renderedRecords struct {
	mu sync.Mutex
	m  map[*app.Record]*reportingv1.Record
}

// of returns rec's message, rendering it on first use.
func (r *renderedRecords) of(rec *app.Record) *reportingv1.Record {
	r.mu.Lock()
	p, ok := r.m[rec]
	r.mu.Unlock()
	if ok {
		return p
	}
	p = recordToProto(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= renderedLimit {
		// Whole, rather than one by one: the records the app no longer
		// keeps are found no more, and the ones still read come back on
		// their next call.
		r.m = make(map[*app.Record]*reportingv1.Record, renderedLimit)
	}
	r.m[rec] = p
	return p
}
