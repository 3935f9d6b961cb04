package telemetry

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Instruments returns a getter of the instruments build makes on the
// current global MeterProvider. It rebuilds them when another provider is
// installed: instruments taken from the global provider before it was set
// would stay bound to the first one, and a test binary runs several
// processes one after another.
func Instruments[T any](scope string, build func(m metric.Meter) T) func() T {
	var (
		mu   sync.Mutex
		mp   metric.MeterProvider
		inst T
	)
	return func() T {
		cur := otel.GetMeterProvider()
		mu.Lock()
		defer mu.Unlock()
		if mp != cur {
			mp, inst = cur, build(cur.Meter(scope))
		}
		return inst
	}
}

// Counter makes an Int64Counter, or a no-op one if the name is invalid
// (reported through otel.Handle): metrics must never stop the service.
func Counter(m metric.Meter, name, desc string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithDescription(desc))
	if err != nil {
		otel.Handle(err)
		return noop.Int64Counter{}
	}
	return c
}

// Histogram makes a Float64Histogram in seconds, or a no-op one.
func Histogram(m metric.Meter, name, desc string) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	if err != nil {
		otel.Handle(err)
		return noop.Float64Histogram{}
	}
	return h
}

// Gauge is one value observed at each scrape.
type Gauge struct {
	Name        string
	Description string
	// Unit, e.g. "s"; empty for a count.
	Unit string
	// Observe is called at each scrape; it must be quick and safe for
	// concurrent use.
	Observe func(ctx context.Context) float64
}

// ObserveGauges registers gauges on the current global MeterProvider under
// scope. Call unregister when the observed thing stops (a component's Stop).
func ObserveGauges(scope string, gauges ...Gauge) (unregister func(), err error) {
	m := otel.GetMeterProvider().Meter(scope)
	insts := make([]metric.Float64ObservableGauge, len(gauges))
	obs := make([]metric.Observable, len(gauges))
	for i, g := range gauges {
		opts := []metric.Float64ObservableGaugeOption{metric.WithDescription(g.Description)}
		if g.Unit != "" {
			opts = append(opts, metric.WithUnit(g.Unit))
		}
		insts[i], err = m.Float64ObservableGauge(g.Name, opts...)
		if err != nil {
			return nil, err
		}
		obs[i] = insts[i]
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for i, g := range gauges {
			o.ObserveFloat64(insts[i], g.Observe(ctx))
		}
		return nil
	}, obs...)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
