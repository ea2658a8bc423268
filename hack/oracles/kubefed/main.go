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
//	{"case":"plan","rsp":{...},"clusters":[...],"current":{c:n},"capacity":{c:n},"key":"ns/name"}
//	  -> {"plan":{c:n},"overflow":{c:n},"schedule":{c:n}} or {"error":"..."}
//	     plan, overflow from planner.NewPlanner(rsp).Plan(clusters, current, capacity, key);
//	     schedule from the replica scheduler's own merge (schedulingtypes.schedule, reached
//	     through go:linkname since it is unexported), which runs the planner a second time.
//
// Objects are decoded as KubeFed's informers decode them (k8s.io/apimachinery/pkg/util/json:
// integers that fit int64 stay int64, other numbers are float64).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	_ "unsafe" // go:linkname

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	fedschedulingv1a1 "sigs.k8s.io/kubefed/pkg/apis/scheduling/v1alpha1"
	"sigs.k8s.io/kubefed/pkg/controller/sync"
	"sigs.k8s.io/kubefed/pkg/controller/util"
	"sigs.k8s.io/kubefed/pkg/controller/util/planner"
	_ "sigs.k8s.io/kubefed/pkg/schedulingtypes" // for kubefedSchedule
)

type input struct {
	Case    string          `json:"case"`
	Fed     json.RawMessage `json:"fed"`
	Obj     json.RawMessage `json:"obj"`
	Cluster string          `json:"cluster"`
	// case "plan"
	RSP      json.RawMessage  `json:"rsp"`
	Clusters []string         `json:"clusters"`
	Current  map[string]int64 `json:"current"`
	Capacity map[string]int64 `json:"capacity"`
	Key      string           `json:"key"`
}

// kubefedSchedule is schedulingtypes.schedule: the replica scheduler's merge of the
// planner's plan and overflow with the clusters that have a current count.
//
//go:linkname kubefedSchedule sigs.k8s.io/kubefed/pkg/schedulingtypes.schedule
func kubefedSchedule(p *planner.Planner, key string, clusterNames []string,
	current map[string]int64, capacity map[string]int64) (map[string]int64, error)

func plan(in input) map[string]interface{} {
	rsp := &fedschedulingv1a1.ReplicaSchedulingPreference{}
	if err := json.Unmarshal(in.RSP, rsp); err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "input"}
	}
	if in.Current == nil {
		in.Current = map[string]int64{}
	}
	if in.Capacity == nil {
		in.Capacity = map[string]int64{}
	}
	planned, overflow, err := planner.NewPlanner(rsp).Plan(in.Clusters, in.Current, in.Capacity, in.Key)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "plan"}
	}
	schedule, err := kubefedSchedule(planner.NewPlanner(rsp), in.Key, in.Clusters, in.Current, in.Capacity)
	if err != nil {
		return map[string]interface{}{"error": err.Error(), "stage": "schedule"}
	}
	return map[string]interface{}{"plan": planned, "overflow": overflow, "schedule": schedule}
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
	case "plan":
		return plan(in)
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
