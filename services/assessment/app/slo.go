package app

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// The service-level indicators assessment measures (RUNBOOK.md, SLOs).
type sloInstruments struct {
	// From the request's submission to intake to its case opened: clause
	// 3.1's "immediately", end to end through the stream.
	caseOpen metric.Float64Histogram
	// From a case opened to the first step a reviewer takes on it, by
	// urgency: an emergency must be looked at within its review deadline.
	firstReview metric.Float64Histogram
}

// Buckets in seconds from a second to a week: opening a case takes seconds,
// a first review minutes (emergency) to days.
var sloBuckets = []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400}

var slo = telemetry.Instruments("github.com/ddrsuite/ddr/services/assessment", func(m metric.Meter) sloInstruments {
	h := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(sloBuckets...))
		if err != nil {
			return telemetry.Histogram(m, name, desc) // default buckets rather than none
		}
		return h
	}
	return sloInstruments{
		caseOpen:    h("ddr.assessment.case_open_delay", "Time from a request's submission to intake to its case opened"),
		firstReview: h("ddr.assessment.first_review_delay", "Time from a case opened to the first reviewer's step on it"),
	}
})

func since(from, to time.Time) float64 {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from).Seconds()
}

var assessmentService = eventstore.Kind[*assessmentv1.CaseOpened]().Service

// reviewed reports whether a person already acted on the case: an
// assessment event with an actor (opening and overdue marking have none).
func reviewed(h eventstore.History) bool {
	for _, ev := range h.Events {
		if ev.Service == assessmentService && ev.Actor != "" {
			return true
		}
	}
	return false
}

// observeFirstReview records the first review's delay when appended is the
// first reviewer's step on a case.
func observeFirstReview(ctx context.Context, first bool, st *CaseState, appended []eventstore.Event, now time.Time) {
	if !first || st == nil || len(appended) == 0 || appended[0].Actor == "" {
		return
	}
	slo().firstReview.Record(ctx, since(st.Case.OpenedAt(), now),
		metric.WithAttributes(attribute.Bool("ddr.urgent", st.Case.Facts().Urgent())))
}
