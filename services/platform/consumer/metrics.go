package consumer

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Outcomes of handling one delivery, the outcome label of
// ddr.events.consumed.
const (
	outcomeAcked        = "acked"
	outcomeRetry        = "retry"
	outcomeDeadLettered = "dead_lettered"
	outcomeHandedBack   = "handed_back"
)

// infoTimeout bounds the server round trips made during a scrape.
const infoTimeout = 2 * time.Second

type consumerMetrics struct {
	meter       metric.Meter
	consumed    metric.Int64Counter
	redelivered metric.Int64Counter
	duration    metric.Float64Histogram
	pending     metric.Int64ObservableGauge
	ackPending  metric.Int64ObservableGauge
	redelivNow  metric.Int64ObservableGauge
	ackFloor    metric.Int64ObservableGauge
}

func gauge(m metric.Meter, name, desc string) metric.Int64ObservableGauge {
	g, err := m.Int64ObservableGauge(name, metric.WithDescription(desc))
	if err != nil {
		otel.Handle(err)
	}
	return g
}

var instruments = telemetry.Instruments(TracerName, func(m metric.Meter) *consumerMetrics {
	return &consumerMetrics{
		meter: m,
		consumed: telemetry.Counter(m, "ddr.events.consumed",
			"Events delivered to a reactor, by consumer, emitting service, event name and outcome (acked, retry, dead_lettered, handed_back)"),
		redelivered: telemetry.Counter(m, "ddr.events.redelivered",
			"Deliveries of an event that had been delivered to the consumer before (a handler failed or an ack was lost)"),
		duration: telemetry.Histogram(m, "ddr.consumer.handle.duration",
			"Time a reactor took to handle one event, by consumer and outcome"),
		pending: gauge(m, "ddr.consumer.pending",
			"Events matching a durable consumer not yet delivered to it: its lag"),
		ackPending: gauge(m, "ddr.consumer.ack_pending",
			"Events delivered to a durable consumer and not yet acknowledged"),
		redelivNow: gauge(m, "ddr.consumer.redelivered",
			"Events of a durable consumer currently pending after more than one delivery"),
		ackFloor: gauge(m, "ddr.consumer.ack_floor",
			"Stream sequence up to which a durable consumer has acknowledged everything; a stuck consumer's stops moving"),
	}
})

// countDelivery records one handled delivery.
func (r *Runner) countDelivery(ctx context.Context, subject string, attempt uint64, start time.Time, outcome string) {
	m := instruments()
	svc, event := serviceAndEvent(subject)
	m.consumed.Add(ctx, 1, metric.WithAttributes(attribute.String("consumer", r.cfg.Name),
		attribute.String("service", svc), attribute.String("event", event), attribute.String("outcome", outcome)))
	if attempt > 1 {
		m.redelivered.Add(ctx, 1, metric.WithAttributes(attribute.String("consumer", r.cfg.Name)))
	}
	m.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(
		attribute.String("consumer", r.cfg.Name), attribute.String("outcome", outcome)))
}

func serviceAndEvent(subject string) (string, string) {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[3], parts[4]
}

// observeLag reports the consumer's state from the server at each scrape.
func (r *Runner) observeLag() (metric.Registration, error) {
	m := instruments()
	attrs := metric.WithAttributes(attribute.String("consumer", r.cfg.Name))
	return m.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, infoTimeout)
		defer cancel()
		c, err := r.js.Consumer(ctx, eventstore.StreamName, r.cfg.Name)
		if err != nil {
			return nil // not observable now: no sample rather than a false one
		}
		info := c.CachedInfo()
		o.ObserveInt64(m.pending, int64(info.NumPending), attrs)
		o.ObserveInt64(m.ackPending, int64(info.NumAckPending), attrs)
		o.ObserveInt64(m.redelivNow, int64(info.NumRedelivered), attrs)
		o.ObserveInt64(m.ackFloor, int64(info.AckFloor.Stream), attrs)
		return nil
	}, m.pending, m.ackPending, m.redelivNow, m.ackFloor)
}

var running = struct {
	sync.Mutex
	names map[string]int
}{names: map[string]int{}}

// track counts the runners of each consumer name in this process while
// they run; it returns the untrack function.
func track(name string) func() {
	running.Lock()
	running.names[name]++
	running.Unlock()
	return func() {
		running.Lock()
		defer running.Unlock()
		if running.names[name]--; running.names[name] <= 0 {
			delete(running.names, name)
		}
	}
}

func runningConsumers() []string {
	running.Lock()
	defer running.Unlock()
	names := make([]string, 0, len(running.names))
	for n := range running.names {
		names = append(names, n)
	}
	return names
}

// ObserveDeadLetters reports the size of the dead-letter stream DDR_DLQ per
// consumer as ddr.dead_letters at each scrape, on the current global
// MeterProvider. A process calls it once; unregister when it stops.
func ObserveDeadLetters(js jetstream.JetStream) (unregister func(), err error) {
	m := otel.GetMeterProvider().Meter(TracerName)
	g, err := m.Int64ObservableGauge("ddr.dead_letters",
		metric.WithDescription("Events parked in the dead-letter stream DDR_DLQ, by the consumer that gave up on them"))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, infoTimeout)
		defer cancel()
		st, err := js.Stream(ctx, eventstore.DLQStreamName)
		if err != nil {
			return nil
		}
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(eventstore.AllDeadLetters))
		if err != nil {
			return nil
		}
		// A consumer without dead letters reports 0 once it ran here, so
		// a rate over the series does not start from nothing.
		counts := map[string]int64{}
		for _, name := range runningConsumers() {
			counts[name] = 0
		}
		for subj, n := range info.State.Subjects {
			counts[strings.TrimPrefix(subj, eventstore.DLQPrefix+".")] += int64(n)
		}
		for name, n := range counts {
			o.ObserveInt64(g, n, metric.WithAttributes(attribute.String("consumer", name)))
		}
		return nil
	}, g)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
