// Command kubefed-oracle answers, for the Python tests, what KubeFed v0.10.0 itself computes.
//
// It reads one JSON case per line on stdin and writes one JSON line per case on stdout:
//
//	{"case":"versions","fed":{...}}
//	  -> {"template":H,"overrides":H,"templateText":T,"overridesText":T} or {"error":"..."}
//	     H from sync.GetTemplateHash / sync.GetOverrideHash (what the sync controller records in
//	     PropagatedVersion); T is the text those functions hash (Unstructured.MarshalJSON).
//	{"case":"apply","fed":{...},"cluster":"c","obj":{...}}
//	  -> {"result":{...}} or {"error":"...","stage":"overrides"|"apply"|"panic"}
//	     util.GetOverrides(fed)[cluster] applied with util.ApplyJSONPatch (evanphx/json-patch v4).
//
// Objects are decoded as KubeFed's informers decode them (k8s.io/apimachinery/pkg/util/json:
// integers that fit int64 stay int64, other numbers are float64).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"sigs.k8s.io/kubefed/pkg/controller/sync"
	"sigs.k8s.io/kubefed/pkg/controller/util"
)

type input struct {
	Case    string          `json:"case"`
	Fed     json.RawMessage `json:"fed"`
	Obj     json.RawMessage `json:"obj"`
	Cluster string          `json:"cluster"`
}

func decodeObject(raw json.RawMessage) (*unstructured.Unstructured, error) {
	m := map[string]interface{}{}
	if len(raw) > 0 {
		if err := utiljson.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func marshalText(obj *unstructured.Unstructured) string {
	b, err := obj.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

func versions(in input) map[string]interface{} {
	fed, err := decodeObject(in.Fed)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	template, err := sync.GetTemplateHash(fed.Object)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "template"}
	}
	overrides, err := sync.GetOverrideHash(fed)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "overrides"}
	}
	out := map[string]interface{}{"template": template, "overrides": overrides}
	// The texts hashed above, built the same way as sync.GetTemplateHash and
	// sync.GetOverrideHash build them.
	if body, ok, _ := unstructured.NestedMap(fed.Object, "spec", "template"); ok {
		out["templateText"] = marshalText(&unstructured.Unstructured{Object: body})
	}
	generic := util.GenericOverride{}
	if err := util.UnstructuredToInterface(fed, &generic); err == nil && generic.Spec != nil {
		wrapped := map[string]interface{}{"overrides": generic.Spec.Overrides}
		out["overridesText"] = marshalText(&unstructured.Unstructured{Object: wrapped})
	}
	return out
}

func apply(in input) map[string]interface{} {
	fed, err := decodeObject(in.Fed)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "input"}
	}
	obj, err := decodeObject(in.Obj)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "input"}
	}
	overrides, err := util.GetOverrides(fed)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "overrides"}
	}
	if ops := overrides[in.Cluster]; ops != nil {
		if err := util.ApplyJSONPatch(obj, ops); err != nil {
			return map[string]interface{}{"error": err.Error(), "stage": "apply"}
		}
	}
	return map[string]interface{}{"result": obj.Object}
}

// answer runs one case; a panic inside KubeFed's code is an answer too (stage "panic").
func answer(in input) (out map[string]interface{}) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]interface{}{"error": fmt.Sprint(r), "stage": "panic"}
		}
	}()
	switch in.Case {
	case "versions":
		return versions(in)
	case "apply":
		return apply(in)
	}
	return map[string]interface{}{"error": fmt.Sprintf("unknown case %q", in.Case), "stage": "input"}
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		var in input
		var out map[string]interface{}
		if err := json.Unmarshal(scanner.Bytes(), &in); err != nil {
			out = map[string]interface{}{"error": err.Error(), "stage": "input"}
		} else {
			out = answer(in)
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := w.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
