// Package adapters holds assessment's adapters to NATS that are not the
// event store: the stored verification scope.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// SettingsBucket holds assessment's settings that the two-person rule
// guards (issue 18/15): today the verification scope in force, who changed
// it, who confirmed it, when and why, and the narrowing waiting for a
// second person. Every change is a new revision of one key, written under
// compare-and-set; the key's history is the audit trail. A setting is about
// the configuration, never about people: nothing in it is personal data.
const SettingsBucket = "ddr_assessment_settings"

// keyVerifyScope is the verification scope's key.
const keyVerifyScope = "verify_scope"

// settingsHistory is the most revisions a key keeps (JetStream's limit).
const settingsHistory = 64

// ScopeStore implements app.ScopeStore on the settings bucket.
type ScopeStore struct {
	KV jetstream.KeyValue
	// JS, when set, reads the setting from the bucket's stream leader
	// (see Load).
	JS jetstream.JetStream
}

// EnsureScopeStore creates the bucket (file storage, replicas as the
// stream's, the longest history JetStream keeps).
func EnsureScopeStore(ctx context.Context, js jetstream.JetStream, replicas int) (*ScopeStore, error) {
	kv, err := eventstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      SettingsBucket,
		Description: "ddr: assessment's settings under the two-person rule (the verification scope); history is the audit trail",
		History:     settingsHistory,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, err
	}
	return &ScopeStore{KV: kv, JS: js}, nil
}

// Load implements app.ScopeStore. It reads from the bucket's stream
// leader, not with a direct get that any replica of the bucket answers: a
// narrowing proposed through one assessment replica must be there to
// confirm through the other, and a case opened through either must be
// checked under the scope just confirmed; on a cluster a replica that
// lags would answer with the setting before (eventstore/consistent.go).
// The setting is read once per case opened and per staff command on it,
// so the leader's round trip costs little. When the leader cannot answer
// (an election), the direct get does.
func (s *ScopeStore) Load(ctx context.Context) (domain.ScopeState, uint64, error) {
	if s.JS != nil {
		v, rev, err := eventstore.LeaderKVGet(ctx, s.JS, SettingsBucket, keyVerifyScope)
		if errors.Is(err, eventstore.ErrNotFound) {
			return domain.ScopeState{}, 0, nil
		}
		if err == nil {
			st, err := decodeScope(v)
			return st, rev, err
		}
	}
	e, err := s.KV.Get(ctx, keyVerifyScope)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.ScopeState{}, 0, nil
	}
	if err != nil {
		return domain.ScopeState{}, 0, err
	}
	st, err := decodeScope(e.Value())
	return st, e.Revision(), err
}

// Save implements app.ScopeStore.
func (s *ScopeStore) Save(ctx context.Context, st domain.ScopeState, rev uint64) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = s.KV.Create(ctx, keyVerifyScope, b)
	} else {
		_, err = s.KV.Update(ctx, keyVerifyScope, b, rev)
	}
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)) {
		return fmt.Errorf("%w: the verification scope changed meanwhile", ddrerr.ErrConflict)
	}
	return err
}

// History implements app.ScopeStore.
func (s *ScopeStore) History(ctx context.Context) ([]domain.ScopeState, error) {
	es, err := s.KV.History(ctx, keyVerifyScope)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []domain.ScopeState
	for _, e := range es {
		if e.Operation() != jetstream.KeyValuePut {
			continue
		}
		st, err := decodeScope(e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func decodeScope(b []byte) (domain.ScopeState, error) {
	var st domain.ScopeState
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("verification scope: stored value unreadable: %w", err)
	}
	if !st.InForce.Scope.Valid() {
		return st, fmt.Errorf("verification scope: stored scope %q is not one of emergency, unverified, all", st.InForce.Scope)
	}
	return st, nil
}
