package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// DPADirectory maps a controller customer's country of establishment to the
// data protection authority competent for it. It is data, not code: a
// deployment passes its own (Config.Directory); [DefaultDPADirectory] is the
// EEA's national authorities by their usual short names.
type DPADirectory map[policy.Country]string

// DefaultDPADirectory returns the supervisory authorities of the EEA
// members. Countries without an entry are covered by the lead authority
// under the BCR.
func DefaultDPADirectory() DPADirectory {
	return DPADirectory{
		"AT": "DSB-AT", "BE": "APD-BE", "BG": "CPDP-BG", "HR": "AZOP-HR", "CY": "CDPC-CY",
		"CZ": "UOOU-CZ", "DK": "DT-DK", "EE": "AKI-EE", "FI": "TSV-FI", "FR": "CNIL",
		"DE": "BfDI-DE", "GR": "HDPA-GR", "HU": "NAIH-HU", "IE": "DPC-IE", "IT": "GPDP-IT",
		"LV": "DVI-LV", "LT": "VDAI-LT", "LU": "CNPD-LU", "MT": "IDPC-MT", "NL": "AP-NL",
		"PL": "UODO-PL", "PT": "CNPD-PT", "RO": "ANSPDCP-RO", "SK": "UOOU-SK", "SI": "IP-SI",
		"ES": "AEPD-ES", "SE": "IMY-SE", "IS": "PERSONUVERND-IS", "LI": "DSS-LI", "NO": "DATATILSYNET-NO",
	}
}

// DefaultConsultationPeriod is how long a DPA has to answer before "no
// reply" may be recorded as its outcome, when the config sets none.
const DefaultConsultationPeriod = 30 * 24 * time.Hour

// CompetentAuthorities is the set of authorities 2.2 has notified for a
// request: the lead authority under the BCR first, then any configured
// others, then the authority competent for each controller customer's
// establishment, without repeats. It is computed once when the plan is
// derived and recorded in PlanDerived, so the fold never depends on today's
// directory.
func CompetentAuthorities(req Requirements, cfg Config) []string {
	out := []string{cfg.LeadDPA}
	add := func(a string) {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range cfg.OtherDPAs {
		add(a)
	}
	dir := cfg.Directory
	if dir == nil {
		dir = DefaultDPADirectory()
	}
	for _, c := range append([]Customer{req.Customer}, req.Customers...) {
		if !c.Controller || c.Establishment == "" {
			continue
		}
		add(dir[policy.ParseCountry(c.Establishment)])
	}
	return out
}

func (c Config) consultationPeriod() time.Duration {
	if c.ConsultationPeriod > 0 {
		return c.ConsultationPeriod
	}
	return DefaultConsultationPeriod
}
