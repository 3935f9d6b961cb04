package ports

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Issue 18 under issue 15's two-person rule: the verification scope in
// force, changed through the VerificationService.

// WithScopes serves the stored verification scope.
func (v *VerificationServer) WithScopes(s *app.VerifyScopes) *VerificationServer {
	v.scopes = s
	return v
}

func (v *VerificationServer) scopeStore() (*app.VerifyScopes, error) {
	if v.scopes == nil {
		return nil, errors.Join(ddrerr.ErrUnavailable, errors.New("the verification scope is not stored in this process"))
	}
	return v.scopes, nil
}

// scopeChange is who asks to change the scope (a person, whose roles the
// two-person rule reads; req checked) and the stored scope to change.
func (v *VerificationServer) scopeChange(ctx context.Context, req proto.Message) (policy.Person, *app.VerifyScopes, error) {
	who, err := v.s.person(ctx, req)
	if err != nil {
		return policy.Person{}, nil, err
	}
	sc, err := v.scopeStore()
	return who, sc, err
}

// GetVerificationScope implements assessmentv1.VerificationServiceServer.
func (v *VerificationServer) GetVerificationScope(ctx context.Context, req *assessmentv1.GetVerificationScopeRequest) (*assessmentv1.GetVerificationScopeResponse, error) {
	if _, err := v.s.staff(ctx, req); err != nil {
		return nil, err
	}
	sc, err := v.scopeStore()
	if err != nil {
		return nil, err
	}
	st, hist, err := sc.Get(ctx)
	if err != nil {
		return nil, err
	}
	out := &assessmentv1.GetVerificationScopeResponse{InForce: scopeSettingToProto(st.InForce), Pending: scopeProposalToProto(st.Pending)}
	// The history holds every stored revision, a proposal's too; the
	// audit trail shows each setting once, when it came into force.
	var last domain.ScopeSetting
	for _, h := range hist {
		if h.InForce != last {
			out.History = append(out.History, scopeSettingToProto(h.InForce))
			last = h.InForce
		}
	}
	return out, nil
}

// ProposeVerificationScope implements assessmentv1.VerificationServiceServer.
func (v *VerificationServer) ProposeVerificationScope(ctx context.Context, req *assessmentv1.ProposeVerificationScopeRequest) (*assessmentv1.ProposeVerificationScopeResponse, error) {
	who, sc, err := v.scopeChange(ctx, req)
	if err != nil {
		return nil, err
	}
	st, now, err := sc.Propose(ctx, who, domain.VerifyScope(protoconv.EnumName(req.GetScope(), scopePrefix)), req.GetReason())
	if err != nil {
		return nil, err
	}
	if now {
		v.log.InfoContext(ctx, "verification scope widened", "verify_scope", string(st.InForce.Scope), "changed_by", who.ID)
	} else if st.Pending != nil {
		v.log.InfoContext(ctx, "verification scope narrowing proposed; it waits for a second person",
			"proposal_id", st.Pending.ID, "from", string(st.Pending.From), "to", string(st.Pending.To), "proposed_by", who.ID)
	}
	return &assessmentv1.ProposeVerificationScopeResponse{InForceNow: now, InForce: scopeSettingToProto(st.InForce), Pending: scopeProposalToProto(st.Pending)}, nil
}

// ConfirmVerificationScope implements assessmentv1.VerificationServiceServer.
func (v *VerificationServer) ConfirmVerificationScope(ctx context.Context, req *assessmentv1.ConfirmVerificationScopeRequest) (*assessmentv1.ConfirmVerificationScopeResponse, error) {
	who, sc, err := v.scopeChange(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := sc.Confirm(ctx, who, req.GetProposalId())
	if err != nil {
		return nil, err
	}
	v.log.WarnContext(ctx, "verification scope narrowed by two people", "verify_scope", string(st.InForce.Scope),
		"proposal_id", st.InForce.ProposalID, "proposed_by", st.InForce.ChangedBy, "confirmed_by", st.InForce.ConfirmedBy)
	return &assessmentv1.ConfirmVerificationScopeResponse{InForce: scopeSettingToProto(st.InForce)}, nil
}

// scopePrefix is the wire spelling's prefix: VERIFICATION_SCOPE_ALL is
// the domain's "all" (protoconv's one enum conversion, as for every
// other enum; an unspecified or undefined scope reads as invalid).
const scopePrefix = "VERIFICATION_SCOPE_"

func scopeToProto(s domain.VerifyScope) assessmentv1.VerificationScope {
	return protoconv.EnumValue[assessmentv1.VerificationScope](string(s), scopePrefix)
}

func scopeSettingToProto(s domain.ScopeSetting) *assessmentv1.VerificationScopeSetting {
	return &assessmentv1.VerificationScopeSetting{
		Scope: scopeToProto(s.Scope), Reason: s.Reason, ChangedBy: s.ChangedBy, ChangeTime: protoconv.Timestamp(s.ChangedAt),
		ConfirmedBy: s.ConfirmedBy, ConfirmTime: protoconv.Timestamp(s.ConfirmedAt), ProposalId: s.ProposalID, Source: s.Source,
	}
}

func scopeProposalToProto(p *domain.ScopeProposal) *assessmentv1.VerificationScopeProposal {
	if p == nil {
		return nil
	}
	return &assessmentv1.VerificationScopeProposal{ProposalId: p.ID, FromScope: scopeToProto(p.From), Scope: scopeToProto(p.To), Lift: protoconv.Lift(p.Lift)}
}
