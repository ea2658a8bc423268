#!/usr/bin/env bash
# The KubeFed demo end to end on real clusters, through kubectl and the plugin.
# Expects a kubeconfig with contexts host, member1, member2 (e.g. `make testbed-up` and
# KUBECONFIG=.testbed/kubeconfig) and kubectl-kubefed on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${KUBECONFIG:?set KUBECONFIG to a kubeconfig with contexts host, member1, member2}"
NS=kube-federation-system
k() { kubectl --context host "$@"; }

echo "== deploy the control plane"
kubectl kubefed init --host-cluster-context host

echo "== join three clusters (cluster3 is the host itself)"
kubectl kubefed join cluster1 --cluster-context member1 --host-cluster-context host --no-error-on-existing
kubectl kubefed join cluster2 --cluster-context member2 --host-cluster-context host --no-error-on-existing
kubectl kubefed join cluster3 --cluster-context host --host-cluster-context host --no-error-on-existing
k -n "$NS" label --overwrite kubefedcluster cluster1 region=europe
k -n "$NS" label --overwrite kubefedcluster cluster2 region=america
k -n "$NS" label --overwrite kubefedcluster cluster3 region=asia

echo "== run the controller"
log="$(mktemp)"
kubectl kubefed controller --host-cluster-context host --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 0 2>"$log" &
controller=$!
trap 'kill $controller 2>/dev/null || true; wait $controller 2>/dev/null || true' EXIT

wait_for() {  # wait_for DESCRIPTION COMMAND...
  local what="$1"; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "timed out waiting for $what" >&2
  tail -20 "$log" >&2
  return 1
}

echo "== federate the demo app: namespace, Deployment, Service, ConfigMap"
k apply -f "$here/app.yaml"
wait_for "the app in member2" kubectl --context member2 -n demo get deployment demo-app
wait_for "the ConfigMap in member1" kubectl --context member1 -n demo get configmap demo-config

echo "== what each cluster got"
for ctx in member1 member2 host; do
  echo "-- $ctx"
  kubectl --context "$ctx" -n demo get deployments,services,configmaps -l kubefed.io/managed=true \
    -o custom-columns=KIND:.kind,NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image
done

echo "== propagation status"
wait_for "status" sh -c "kubectl kubefed status --all -n demo --host-cluster-context host | grep -q FederatedConfigMap"
kubectl kubefed status --all -n demo --host-cluster-context host
