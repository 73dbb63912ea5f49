package report_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// ecsField is what a test needs of one ecs_flat.yml definition.
type ecsField struct {
	Type          string       `yaml:"type"`
	Normalize     []string     `yaml:"normalize"`
	AllowedValues []ecsAllowed `yaml:"allowed_values"`
}

type ecsAllowed struct {
	Name               string   `yaml:"name"`
	ExpectedEventTypes []string `yaml:"expected_event_types"`
}

// loadECS reads elastic/ecs's generated ecs_flat.yml (by path, from
// ../shared/ecs or $TLSSCOPE_ECS_FLAT; it is not part of the
// repository).
func loadECS(t *testing.T) map[string]ecsField {
	b := readIfPresent(t, "TLSSCOPE_ECS_FLAT", "ecs/ecs_flat.yml")
	var defs map[string]ecsField
	if err := yaml.Unmarshal(b, &defs); err != nil {
		t.Fatalf("ecs_flat.yml: %v", err)
	}
	if len(defs) < 1000 || defs["tls.server.hash.sha256"].Type != "keyword" {
		t.Fatalf("ecs_flat.yml: %d definitions, tls.server.hash.sha256 %+v: not the file expected", len(defs), defs["tls.server.hash.sha256"])
	}
	return defs
}

// flatten walks a decoded event into dotted names and leaf values, ECS's
// flat_name; arrays stay leaves.
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			flatten(strings.TrimPrefix(prefix+"."+k, "."), x, out)
		}
		return
	}
	out[prefix] = v
}

// ecsValueOK reports whether a JSON scalar has the ECS type's shape.
func ecsValueOK(typ string, v any) bool {
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text":
		_, ok := v.(string)
		return ok
	case "ip":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := netip.ParseAddr(s)
		return err == nil
	case "date":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "long", "integer", "short", "byte", "unsigned_long":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case "float", "double", "scaled_float", "half_float":
		_, ok := v.(json.Number)
		return ok
	}
	return false
}

// TestECSFieldsInSchema: on every capture of testdata/pcaps and the
// corpus, every field --format ecs writes outside tlsscope.* is defined
// in elastic/ecs's ecs_flat.yml, with a JSON value of its type, an array
// only where ECS normalises the field to one, one of the allowed values
// where ECS lists them (event.kind, event.category, event.type), and
// event.type values that ECS expects for the event.category.
func TestECSFieldsInSchema(t *testing.T) {
	defs := loadECS(t)
	caps := logCaptures(t, true)
	events, fields := testutil.MinCompared(t, 500, "ECS events"), testutil.MinCompared(t, 20000, "ECS field values")
	used := map[string]bool{}
	names := make([]string, 0, len(caps))
	for n := range caps {
		names = append(names, n)
	}
	sort.Strings(names)
	kinds := map[string]int{}
	for _, name := range names {
		_, out := analyse(t, caps[name], "ecs")
		for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			d := json.NewDecoder(bytes.NewReader(line))
			d.UseNumber()
			var ev map[string]any
			if err := d.Decode(&ev); err != nil {
				t.Fatalf("%s line %d: %v", name, i+1, err)
			}
			flat := map[string]any{}
			flatten("", ev, flat)
			for _, req := range []string{"@timestamp", "ecs.version", "event.kind", "event.dataset"} {
				if _, ok := flat[req]; !ok && (req != "@timestamp" || flat["event.dataset"] != "tlsscope.anomaly") {
					t.Errorf("%s line %d: no %s", name, i+1, req)
				}
			}
			kinds[flat["event.kind"].(string)]++
			// ECS lists the event.type values each event.category expects.
			for _, c := range flat["event.category"].([]any) {
				ci := slices.IndexFunc(defs["event.category"].AllowedValues, func(a ecsAllowed) bool { return a.Name == c })
				for _, ty := range flat["event.type"].([]any) {
					fields.Add(1)
					if ci < 0 || !slices.Contains(defs["event.category"].AllowedValues[ci].ExpectedEventTypes, ty.(string)) {
						t.Errorf("%s line %d: event.type %v is not one ECS expects for event.category %v", name, i+1, ty, c)
					}
				}
			}
			events.Add(1)
			for k, v := range flat {
				if strings.HasPrefix(k, "tlsscope.") {
					continue
				}
				def, ok := defs[k]
				if !ok {
					t.Errorf("%s line %d: %s is not an ECS field", name, i+1, k)
					continue
				}
				used[k] = true
				vals := []any{v}
				if arr, isArr := v.([]any); isArr {
					if !slices.Contains(def.Normalize, "array") {
						t.Errorf("%s line %d: %s is an array; ECS does not normalise it to one", name, i+1, k)
					}
					vals = arr
				}
				for _, x := range vals {
					fields.Add(1)
					if !ecsValueOK(def.Type, x) {
						t.Errorf("%s line %d: %s = %v (%T) is not an ECS %s", name, i+1, k, x, x, def.Type)
						continue
					}
					if len(def.AllowedValues) > 0 && !slices.ContainsFunc(def.AllowedValues, func(a ecsAllowed) bool { return a.Name == x }) {
						t.Errorf("%s line %d: %s = %v is not one of ECS's allowed values", name, i+1, k, x)
					}
				}
			}
		}
	}
	var list []string
	for k := range used {
		list = append(list, k)
	}
	sort.Strings(list)
	t.Logf("%d captures, events by kind %v; %d distinct ECS fields used: %s", len(names), kinds, len(list), strings.Join(list, " "))
	if kinds["alert"] == 0 || kinds["event"] == 0 {
		t.Errorf("events by kind %v: want connections and alerts", kinds)
	}
}
