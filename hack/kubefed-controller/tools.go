// Package tools pins the modules KubeFed's controller-manager is built with (see
// hack/testbin.sh kubefed): sigs.k8s.io/kubefed v0.10.0 with json-iterator v1.1.12 and
// reflect2 v1.0.2, which Go >= 1.18 needs.
package tools
