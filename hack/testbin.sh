#!/usr/bin/env bash
# Builds the real binaries the e2e tests use, from the Go module proxy, into .testbin/:
#   kube-apiserver, kube-controller-manager (k8s.io/kubernetes through a wrapper module),
#   etcd (go.etcd.io/etcd/server/v3 through a wrapper module), helm (v4) and helm3, the Go
#   oracles and KubeFed's controller-manager (hack/kubefed-controller).
# `charts` fetches the public charts of the real-chart tests (hack/charts.txt).
# Each binary is cached under .testbin/cache/<name>-<version>/ and linked into
# .testbin/bin/; a second run with the same versions only checks the cache.
# Nothing built here, and no upstream source, is ever committed.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
HELM4_VERSION="${HELM4_VERSION:-4.2.4}"
HELM3_VERSION="${HELM3_VERSION:-3.21.4}"

root="$(cd "$(dirname "$0")/.." && pwd)"
testbin="$root/.testbin"
cache="$testbin/cache"
bin="$testbin/bin"
mkdir -p "$cache" "$bin"

if ! command -v go >/dev/null 2>&1; then
  echo "testbin: the Go toolchain is needed to build the e2e binaries (go not on PATH)" >&2
  exit 3
fi
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0

log() { printf 'testbin: %s\n' "$*" >&2; }

# link NAME DIR: point .testbin/bin/NAME at a cached build
link() { ln -sfn "$2/$1" "$bin/$1"; }

staging_modules="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
cloud-provider cluster-bootstrap code-generator component-base component-helpers
controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver
sample-cli-plugin sample-controller"

build_kubernetes() {
  local dir="$cache/kubernetes-v$K8S_VERSION"
  if [[ -x "$dir/kube-apiserver" && -x "$dir/kube-controller-manager" ]]; then
    link kube-apiserver "$dir"; link kube-controller-manager "$dir"; return
  fi
  log "building kube-apiserver and kube-controller-manager v$K8S_VERSION (several minutes the first time)"
  local minor="${K8S_VERSION#1.}"; minor="${minor%%.*}"
  local staging="0.${K8S_VERSION#1.}"
  local mod="$cache/wrap-kubernetes-v$K8S_VERSION"
  mkdir -p "$mod"
  {
    echo "module kubefed.local/testbin/kubernetes"
    echo
    echo "go 1.26"
    echo
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    for m in $staging_modules; do echo "replace k8s.io/$m => k8s.io/$m v$staging"; done
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
package tools
GO
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  (
    cd "$mod"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION"
    go build -trimpath -ldflags "$ldflags" -o "$dir.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    go build -trimpath -ldflags "$ldflags" -o "$dir.tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
  )
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  link kube-apiserver "$dir"; link kube-controller-manager "$dir"
}

build_etcd() {
  local dir="$cache/etcd-v$ETCD_VERSION"
  if [[ -x "$dir/etcd" ]]; then link etcd "$dir"; return; fi
  log "building etcd v$ETCD_VERSION"
  local mod="$cache/wrap-etcd-v$ETCD_VERSION"
  mkdir -p "$mod"
  printf 'module kubefed.local/testbin/etcd\n\ngo 1.26\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$mod/go.mod"
  (
    cd "$mod"
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go build -trimpath -ldflags "-s -w" -o "$dir.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  link etcd "$dir"
}

build_helm() {  # build_helm MAJOR VERSION NAME
  local major="$1" version="$2" name="$3"
  local dir="$cache/helm-v$version"
  if [[ -x "$dir/helm" ]]; then ln -sfn "$dir/helm" "$bin/$name"; return; fi
  log "building helm v$version"
  local ldflags="-s -w -X helm.sh/helm/v$major/internal/version.version=v$version"
  if [[ "$major" == 3 ]]; then
    ldflags="$ldflags -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36"
    ldflags="$ldflags -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36"
  fi
  GOBIN="$dir.tmp" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v$major/cmd/helm@v$version"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  ln -sfn "$dir/helm" "$bin/$name"
}

# Go test oracles: every hack/oracles/NAME/ is a small Go main module (go.mod, go.sum,
# main.go) that computes what a real component (sigs.k8s.io/yaml, KubeFed) would. Built
# into .testbin/bin/NAME-oracle, cached by a hash of the module's files.
build_oracles() {
  local src name sum dir
  for src in "$root"/hack/oracles/*/; do
    [[ -f "$src/go.mod" ]] || continue
    name="$(basename "$src")"
    sum="$(cat "$src"/go.mod "$src"/*.go "$src"/go.sum 2>/dev/null | sha256sum | cut -c1-16)"
    dir="$cache/oracle-$name-$sum"
    if [[ ! -x "$dir/$name-oracle" ]]; then
      log "building the $name oracle"
      (cd "$src" && go build -trimpath -o "$dir.tmp/$name-oracle" .)
      rm -rf "$dir"; mv "$dir.tmp" "$dir"
    fi
    link "$name-oracle" "$dir"
  done
}

# KubeFed's own controller-manager (sigs.k8s.io/kubefed v0.10.0), for the e2e test that
# migrates a KubeFed host to ours; hack/kubefed-controller/ pins json-iterator v1.1.12 and
# reflect2 v1.0.2 (Go >= 1.18 needs them). Cached by a hash of the wrapper module.
build_kubefed() {
  local src="$root/hack/kubefed-controller" sum dir
  sum="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-16)"
  dir="$cache/kubefed-controller-v0.10.0-$sum"
  if [[ ! -x "$dir/kubefed-controller-manager" ]]; then
    log "building KubeFed's controller-manager v0.10.0"
    (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$dir.tmp/kubefed-controller-manager" \
      sigs.k8s.io/kubefed/cmd/controller-manager)
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
  fi
  link kubefed-controller-manager "$dir"
}

# Public charts for tests/e2e/test_real_charts.py: the Go modules pinned in hack/charts.txt,
# downloaded into the Go module cache (tests/charts.py reads them from there).
fetch_charts() {
  local spec
  while read -r spec; do
    spec="${spec%%#*}"; spec="${spec// /}"
    [[ -n "$spec" ]] || continue
    (cd "$root/hack" && go mod download "$spec") || { log "cannot download $spec"; return 1; }
  done <"$root/hack/charts.txt"
  log "charts: $(grep -c '^[^#]' "$root/hack/charts.txt") modules in the Go module cache"
}

what="${1:-all}"
case "$what" in
  kube) build_etcd; build_kubernetes ;;
  helm) build_helm 4 "$HELM4_VERSION" helm; build_helm 3 "$HELM3_VERSION" helm3 ;;
  oracles) build_oracles ;;
  kubefed) build_kubefed ;;
  charts) fetch_charts ;;
  all) build_etcd; build_kubernetes; build_helm 4 "$HELM4_VERSION" helm; build_helm 3 "$HELM3_VERSION" helm3; build_oracles; build_kubefed; fetch_charts ;;
  *) echo "usage: $0 [kube|helm|oracles|kubefed|charts|all]" >&2; exit 2 ;;
esac
log "binaries in $bin: $(ls "$bin" | tr '\n' ' ')"
