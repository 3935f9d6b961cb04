// Package k8s renders the generated parts of the Kubernetes manifests in
// deploy/k8s (the nats-server configuration from the NATS permission
// table, the PrometheusRule from deploy/observability/alerts.yml), and its
// tests build every overlay offline and check what a cluster would get.
package k8s

import (
	"bytes"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Generated files, relative to deploy/k8s.
const (
	NATSConfigFile     = "base/nats/nats.conf"
	PrometheusRuleFile = "base/prometheusrule.yaml"
	// AlertsFile is the source of PrometheusRuleFile, relative to deploy/k8s.
	AlertsFile = "../observability/alerts.yml"
)

// NATSNode is the nats-server of the StatefulSet's pods, rendered by the
// same code as deploy/nats: TLS on clients and routes with the
// cert-manager secret's files, the per-service users. One configuration
// for the three pods: the server name is the pod's ($POD_NAME, from the
// downward API) and the routes use the headless Service's stable names.
func NATSNode() natsacl.Node {
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://nats-%d.nats:6222", i))
	}
	return natsacl.Node{
		Name: "$POD_NAME", Host: "0.0.0.0", Port: 4222, HTTPPort: 8222,
		StoreDir: "/data/jetstream", SyncAlways: true,
		ClusterName: "ddr", ClusterPort: 6222, Routes: routes,
		TLS: &natsacl.NodeTLS{
			CAFile: "/etc/nats/tls/ca.crt", CertFile: "/etc/nats/tls/tls.crt", KeyFile: "/etc/nats/tls/tls.key",
			TrustDomain: pki.TrustDomain,
			SRE:         []string{"oncall"},
		},
		Header: "GENERATED from services/platform/natsacl by deploy/k8s/cmd/ddr-k8s: do not edit; `make k8s` rewrites it.\n\n" +
			"ddr on Kubernetes: a node of the 3-pod NATS JetStream StatefulSet, secure mode (TLS on\n" +
			"clients and routes, each service's certificate mapped to its user), as deploy/nats.",
	}
}

// PrometheusRule wraps the rule groups of alerts (the Prometheus rule
// file deploy/observability/alerts.yml) in a prometheus-operator
// PrometheusRule, so a cluster runs exactly the alerts the runbook
// describes.
func PrometheusRule(alerts []byte) ([]byte, error) {
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(alerts, &spec); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	r := monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"},
		ObjectMeta: metav1.ObjectMeta{Name: "ddr-alerts"},
		Spec:       spec,
	}
	out, err := yaml.Marshal(r)
	if err != nil {
		return nil, err
	}
	// The empty creationTimestamp metav1 always writes says nothing.
	out = bytes.Replace(out, []byte("  creationTimestamp: null\n"), nil, 1)
	return append([]byte("# GENERATED from deploy/observability/alerts.yml by deploy/k8s/cmd/ddr-k8s: do not edit; `make k8s` rewrites it.\n"), out...), nil
}
