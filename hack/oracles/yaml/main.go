// Command yaml-oracle says what Kubernetes tooling makes of YAML text, for the tests of
// kubectl-kubefed's own reader and writer (tests/oracle/test_yaml_oracle.py).
//
// Input: JSON lines on stdin, one case each:
//
//	{"yaml": "..."}    one document, read as sigs.k8s.io/yaml.YAMLToJSON reads it
//	{"stream": "..."}  a stream, read as `kubectl apply -f` reads it
//	                   (k8s.io/apimachinery/pkg/util/yaml.NewYAMLOrJSONDecoder)
//
// Either text may instead be given base64-encoded ("yaml_b64", "stream_b64") to pass bytes
// that are not UTF-8.
//
// Output: one JSON line per case, in order: {"json": VALUE} or {"docs": [VALUE, ...]},
// or {"error": "..."} (with the documents read before the error in "docs").
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type request struct {
	YAML      *string `json:"yaml"`
	YAMLB64   *string `json:"yaml_b64"`
	Stream    *string `json:"stream"`
	StreamB64 *string `json:"stream_b64"`
}

type response struct {
	JSON  json.RawMessage   `json:"json,omitempty"`
	Docs  []json.RawMessage `json:"docs,omitempty"`
	Error string            `json:"error,omitempty"`
}

func text(plain, b64 *string) (string, bool, error) {
	if plain != nil {
		return *plain, true, nil
	}
	if b64 != nil {
		raw, err := base64.StdEncoding.DecodeString(*b64)
		return string(raw), true, err
	}
	return "", false, nil
}

func document(in string) (out response) {
	defer func() {
		if r := recover(); r != nil {
			out = response{Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	j, err := yaml.YAMLToJSON([]byte(in))
	if err != nil {
		return response{Error: err.Error()}
	}
	return response{JSON: j}
}

func stream(in string) (out response) {
	defer func() {
		if r := recover(); r != nil {
			out = response{Docs: out.Docs, Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	dec := k8syaml.NewYAMLOrJSONDecoder(strings.NewReader(in), 4096)
	out.Docs = []json.RawMessage{}
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			out.Error = err.Error()
			return out
		}
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		out.Docs = append(out.Docs, raw)
	}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		var resp response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp = response{Error: "oracle: bad request: " + err.Error()}
		} else if s, ok, err := text(req.YAML, req.YAMLB64); ok || err != nil {
			if err != nil {
				resp = response{Error: "oracle: bad base64: " + err.Error()}
			} else {
				resp = document(s)
			}
		} else if s, ok, err := text(req.Stream, req.StreamB64); ok || err != nil {
			if err != nil {
				resp = response{Error: "oracle: bad base64: " + err.Error()}
			} else {
				resp = stream(s)
			}
		} else {
			resp = response{Error: "oracle: a case needs yaml or stream"}
		}
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintln(os.Stderr, "yaml-oracle:", err)
			os.Exit(1)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "yaml-oracle:", err)
		os.Exit(1)
	}
}
