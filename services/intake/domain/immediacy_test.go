package domain_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
)

func TestClause3_1_ForwardingDelayMeasuredFromReceipt(t *testing.T) {
	received := now.Add(-26 * time.Hour)
	if got, want := domain.ForwardingDelay(received, now), 26*time.Hour; got != want {
		t.Errorf("ForwardingDelay = %v, want %v", got, want)
	}
	// Same instants seen from different zones.
	tokyo := time.FixedZone("JST", 9*3600)
	if got, want := domain.ForwardingDelay(received.In(tokyo), now), 26*time.Hour; got != want {
		t.Errorf("ForwardingDelay across zones = %v, want %v", got, want)
	}
}

func TestClause3_1_ReceivedAfterSubmittedCountsAsNoDelay(t *testing.T) {
	// The group member's clock may run ahead of ours.
	if got := domain.ForwardingDelay(now.Add(time.Minute), now); got != 0 {
		t.Errorf("ForwardingDelay = %v, want 0", got)
	}
}

func TestClause3_1_LateForwardingFlaggedAboveThreshold(t *testing.T) {
	tests := []struct {
		name      string
		delay     time.Duration
		threshold time.Duration
		want      bool
	}{
		{"immediate", 0, 0, false},
		{"within a day", 23 * time.Hour, 0, false},
		{"exactly the default threshold", 24 * time.Hour, 0, false},
		{"just over the default threshold", 24*time.Hour + time.Nanosecond, 0, true},
		{"a week", 7 * 24 * time.Hour, 0, true},
		{"negative threshold uses the default", 25 * time.Hour, -time.Hour, true},
		{"configured threshold, under", 59 * time.Minute, time.Hour, false},
		{"configured threshold, over", 61 * time.Minute, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.IsLate(tt.delay, tt.threshold); got != tt.want {
				t.Errorf("IsLate(%v, %v) = %v, want %v", tt.delay, tt.threshold, got, tt.want)
			}
		})
	}
	if domain.DefaultLateThreshold != 24*time.Hour {
		t.Errorf("DefaultLateThreshold = %v, want 24h", domain.DefaultLateThreshold)
	}
	if domain.FlagLateForwarding != "LATE_FORWARDING" || domain.ClauseImmediacy != "3.1" {
		t.Errorf("flag %q clause %q changed; they are part of the event and metric contract",
			domain.FlagLateForwarding, domain.ClauseImmediacy)
	}
}
